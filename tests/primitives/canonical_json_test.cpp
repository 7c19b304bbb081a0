#include "primitives/canonical_json.h"

#include <gtest/gtest.h>

namespace gossipchain {
namespace {

std::string Double(double v) {
    std::string out;
    AppendJsonDouble(out, v);
    return out;
}

TEST(CanonicalJson, FloatsFollowPythonRepr) {
    EXPECT_EQ(Double(1700000000.0), "1700000000.0");
    EXPECT_EQ(Double(1e16), "1e+16");
    EXPECT_EQ(Double(1e-05), "1e-05");
    EXPECT_EQ(Double(-0.0), "-0.0");
    EXPECT_EQ(Double(0.1), "0.1");
    EXPECT_EQ(Double(1506057125.900785), "1506057125.900785");
    EXPECT_EQ(Double(0.0001), "0.0001");
    EXPECT_EQ(Double(123456789012345678.0), "1.2345678901234568e+17");
    EXPECT_EQ(Double(9999999999999998.0), "9999999999999998.0");
}

}  // namespace
}  // namespace gossipchain
