// canonical_json_cli: what gossipchain's strict JSON reader and canonical writer make of JSON
// texts, for tools/check_canonical_json.py to compare with Python's json module. For every file
// named on the command line (or standard input for "-") it prints one line:
//
//   ok<TAB>CANONICAL<TAB>COMPACT     ParseJson accepted the text; CanonicalJson and CompactJson
//   error<TAB>"MESSAGE"              ParseJson refused it; the message as a JSON string
//
// Both outputs are ASCII without tabs or newlines (ensure_ascii escapes every control character),
// so the line format needs no quoting. Exit status 0 unless a file could not be read.
#include "primitives/canonical_json.h"
#include "primitives/json_reader.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

namespace {

bool ReadInput(const std::string& path, std::string& out) {
    if (path == "-") {
        out.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
        return true;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return false;
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace gossipchain;
    if (argc < 2) {
        std::fprintf(stderr, "usage: canonical_json_cli FILE... (- for standard input)\n");
        return 2;
    }
    int status = 0;
    std::string line;
    for (int i = 1; i < argc; ++i) {
        std::string text;
        if (!ReadInput(argv[i], text)) {
            std::fprintf(stderr, "canonical_json_cli: cannot read %s\n", argv[i]);
            status = 1;
            continue;
        }
        line.clear();
        Result<nlohmann::json> json = ParseJson(text);
        if (json.Ok()) {
            line += "ok\t";
            line += CanonicalJson(json.Value());
            line += '\t';
            line += CompactJson(json.Value());
        } else {
            line += "error\t";
            AppendJsonString(line, json.Message());
        }
        line += '\n';
        std::fwrite(line.data(), 1, line.size(), stdout);
    }
    return status;
}
