// Fuzz target: the canonical JSON writer. For any JSON the strict parser accepts, the canonical
// text (Python's json.dumps(sort_keys=True)) and the compact text (Flask's jsonify) must parse
// again to the same canonical text: block hashes are taken over these bytes, so a writer that is
// not a fixed point would make two nodes disagree about a hash.
#include "fuzz/fuzz_check.h"
#include "primitives/canonical_json.h"
#include "primitives/json_reader.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace gossipchain;
    using gossipchain::fuzz::Check;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    Result<nlohmann::json> json = ParseJson(text);
    if (!json.Ok())
        return 0;
    std::string canonical = CanonicalJson(json.Value());
    Result<nlohmann::json> again = ParseJson(canonical);
    Check(again.Ok(), "canonical output parses");
    Check(CanonicalJson(again.Value()) == canonical, "canonical output is a fixed point");
    for (char c : canonical)
        Check(static_cast<unsigned char>(c) < 0x80, "canonical output is ASCII (ensure_ascii)");
    std::string compact = CompactJson(json.Value());
    Result<nlohmann::json> from_compact = ParseJson(compact);
    Check(from_compact.Ok(), "compact output parses");
    Check(CanonicalJson(from_compact.Value()) == canonical, "compact and canonical agree");
    return 0;
}
