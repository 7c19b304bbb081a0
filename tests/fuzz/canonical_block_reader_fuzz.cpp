// Fuzz target: the fast canonical block reader (src/primitives/canonical_block_reader.h), which
// every start runs over every stored block. Whatever the bytes, ParseCanonicalBlock must give
// what the general reader (ParseJson + BlockFromJson) gives: the same refusal, or the same block;
// and whenever the fast reader takes a text whose block writes back to exactly that text, the
// general reader takes it too and reads the same block. So the fast path can never change what a
// node loads, only how quickly.
#include "fuzz/fuzz_check.h"
#include "primitives/canonical_block_reader.h"
#include "primitives/canonical_json.h"
#include "primitives/json_reader.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace gossipchain;
    using gossipchain::fuzz::Check;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    Result<Block> general = [&]() -> Result<Block> {
        Result<nlohmann::json> json = ParseJson(text);
        if (!json.Ok())
            return json.GetStatus();
        return BlockFromJson(json.Value());
    }();
    Result<Block> parsed = ParseCanonicalBlock(text);
    Check(parsed.Ok() == general.Ok(), "the fast path takes exactly what the general reader takes");
    if (parsed.Ok())
        Check(parsed.Value() == general.Value(), "both readers give the same block");
    else
        Check(parsed.Message() == general.Message(), "a refusal says what the general one says");

    Block fast;
    if (CanonicalBlockReader(text).Read(fast) && BlockJson(fast) == text) {
        Check(general.Ok(), "a text the fast reader confirms is a block to the general reader");
        Check(general.Value() == fast, "and the same block");
    }
    return 0;
}
