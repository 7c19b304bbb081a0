// Test helper: a fresh directory under the system's temporary directory, removed with everything
// in it when the object goes, for tests that need a data directory or a database file.
#pragma once

#include "store/data_dir.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace gossipchain::test {

class TempDir {
public:
    TempDir() {
        std::string pattern =
            std::filesystem::temp_directory_path().string() + "/store-test-XXXXXX";
        m_path = ::mkdtemp(pattern.data());
    }
    ~TempDir() { std::filesystem::remove_all(m_path); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& Path() const { return m_path; }
    std::string File(const std::string& name) const { return m_path + "/" + name; }
    /** Where the store keeps its database in this directory. */
    std::string Database() const { return File(STORE_FILE_NAME); }
    /** Writes `bytes` as the file `name` (replacing it). */
    void Write(const std::string& name, const std::string& bytes) const {
        std::ofstream(File(name), std::ios::binary | std::ios::trunc) << bytes;
    }

private:
    std::string m_path;
};

}  // namespace gossipchain::test
