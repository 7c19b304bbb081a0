// Corpus replay driver: a main() for builds without libFuzzer (gcc, sanitizer builds). It runs a
// fuzz target's LLVMFuzzerTestOneInput once over every file given, or every file in every
// directory given, so the ordinary test suite re-checks the checked-in corpora and every crash
// reproducer. Exit status 0 means all inputs ran; a property violation aborts as under libFuzzer.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

int RunFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "cannot read %s\n", path.c_str());
        return 1;
    }
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Copy into an exact-size heap block, as libFuzzer does, so reads past the end are caught.
    std::vector<std::uint8_t> input(bytes.begin(), bytes.end());
    LLVMFuzzerTestOneInput(input.data(), input.size());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t ran = 0;
    int failures = 0;
    for (int i = 1; i < argc; ++i) {
        std::filesystem::path arg(argv[i]);
        if (std::filesystem::is_directory(arg)) {
            for (const auto& entry : std::filesystem::recursive_directory_iterator(arg)) {
                if (entry.is_regular_file()) {
                    failures += RunFile(entry.path());
                    ++ran;
                }
            }
        } else {
            failures += RunFile(arg);
            ++ran;
        }
    }
    std::printf("replayed %zu inputs\n", ran);
    return failures == 0 && ran > 0 ? 0 : 1;
}
