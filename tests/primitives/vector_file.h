// Loads the Python-generated test vectors under protocol/vectors/ (see tools/gen_vectors.py).
#pragma once

#include "primitives/json_reader.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <string>

namespace gossipchain::test {

/** The parsed vector file protocol/vectors/<name>; fails the calling test when unreadable. */
inline nlohmann::json LoadVectorFile(const std::string& name) {
    std::string path = std::string(GOSSIPCHAIN_SOURCE_DIR) + "/protocol/vectors/" + name;
    std::ifstream file(path, std::ios::binary);
    EXPECT_TRUE(file.good()) << "cannot open " << path;
    std::stringstream text;
    text << file.rdbuf();
    Result<nlohmann::json> doc = ParseJson(text.str());
    EXPECT_TRUE(doc.Ok()) << path << ": " << doc.Message();
    return doc.Ok() ? std::move(doc).Value() : nlohmann::json();
}

}  // namespace gossipchain::test
