// Tests for peer address parsing and formatting: the forms the tutorial and /nodes/register use,
// IPv6 brackets, and the inputs that must be refused rather than dialled.
#include "p2p/peer_address.h"

#include <gtest/gtest.h>

#include <string>

namespace gossipchain {
namespace {

PeerAddress Parsed(std::string_view text) {
    PeerAddress out;
    EXPECT_TRUE(ParseHostPort(text, out)) << text;
    return out;
}

TEST(PeerAddress, ParsesHostAndPort) {
    PeerAddress address = Parsed("127.0.0.1:5001");
    EXPECT_EQ(address.host, "127.0.0.1");
    EXPECT_EQ(address.port, 5001);
}

TEST(PeerAddress, ParsesTutorialUrls) {
    PeerAddress plain = Parsed("http://127.0.0.1:5001");
    EXPECT_EQ(plain.host, "127.0.0.1");
    EXPECT_EQ(plain.port, 5001);

    PeerAddress with_slash = Parsed("http://localhost:5000/");
    EXPECT_EQ(with_slash.host, "localhost");
    EXPECT_EQ(with_slash.port, 5000);
}

TEST(PeerAddress, ParsesBracketedIpv6) {
    PeerAddress address = Parsed("[::1]:7000");
    EXPECT_EQ(address.host, "::1");
    EXPECT_EQ(address.port, 7000);
}

TEST(PeerAddress, AcceptsTheExtremePorts) {
    EXPECT_EQ(Parsed("h:1").port, 1);
    EXPECT_EQ(Parsed("h:65535").port, 65535);
}

TEST(PeerAddress, RejectsMissingOrBadParts) {
    for (const char* text : {"nohost", ":80", "h:0", "h:65536", "h:12ab", "h:", "", "http://",
                             "[::1]", "[::1]:", "[]:80", "[::1:80", "a:b:80", "h:-1", "h:+80",
                             "h: 80", "bad host:80", "user@h:80", "h:99999999999999999999"}) {
        PeerAddress out{"untouched", 9};
        EXPECT_FALSE(ParseHostPort(text, out)) << text;
        // A refused input leaves the output as it was, so callers can parse into live state.
        EXPECT_EQ(out.host, "untouched") << text;
        EXPECT_EQ(out.port, 9) << text;
    }
}

TEST(PeerAddress, FormatsAndRoundTrips) {
    EXPECT_EQ(FormatHostPort(PeerAddress{"127.0.0.1", 5001}), "127.0.0.1:5001");
    EXPECT_EQ(FormatHostPort(PeerAddress{"localhost", 80}), "localhost:80");
    EXPECT_EQ(FormatHostPort(PeerAddress{"::1", 7000}), "[::1]:7000");
    for (const char* text : {"127.0.0.1:5001", "[::1]:7000", "node-a.example:65535"}) {
        EXPECT_EQ(FormatHostPort(Parsed(text)), text);
    }
}

}  // namespace
}  // namespace gossipchain
