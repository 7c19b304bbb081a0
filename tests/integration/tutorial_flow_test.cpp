// The tutorial's curl walkthrough against real nodes: its messages, status codes and JSON shapes,
// /nodes/resolve between two gossipchain nodes, and what HTTP clients other than curl -d send
// (a POST without a body, HEAD, OPTIONS).
#include "integration/support/node_harness.h"
#include "support/raw_client.h"

#include <gtest/gtest.h>

namespace gossipchain::test {
namespace {

/** Checks a /nodes/resolve answer has the tutorial's shape for its message; returns the chain. */
Json ResolvedChain(const HttpClientResponse& reply, const std::string& expected_message = "") {
    EXPECT_EQ(reply.status, 200) << reply.body;
    Json body = JsonOf(reply);
    if (!body.is_object()) {
        ADD_FAILURE() << "not JSON: " << reply.body;
        return Json::array();
    }
    std::string message = body.value("message", "");
    if (!expected_message.empty()) {
        EXPECT_EQ(message, expected_message);
    }
    if (message == "Our chain was replaced") {
        EXPECT_FALSE(body.contains("chain"));
        return body.value("new_chain", Json::array());
    }
    EXPECT_EQ(message, "Our chain is authoritative");
    EXPECT_FALSE(body.contains("new_chain"));
    return body.value("chain", Json::array());
}

TEST(TutorialFlow, TutorialWalkthrough) {
    TempDir root;
    GossipNode a(root, "a", NodeConfig{});
    GossipNode b(root, "b", NodeConfig{});
    ASSERT_EQ(a.Start(), "");
    ASSERT_EQ(b.Start(), "");

    Json tx = {{"sender", "d4ee26eee15148ee92c6cd394edd974e"},
               {"recipient", "someone-other-address"},
               {"amount", 5}};
    HttpClientResponse created = a.Post("/transactions/new", tx);
    EXPECT_EQ(created.status, 201);
    Json created_body = JsonOf(created);
    ASSERT_TRUE(created_body.is_object()) << created.body;
    EXPECT_EQ(created_body.value("message", ""), "Transaction will be added to Block 2");
    std::string tx_id = created_body.value("id", "");

    HttpClientResponse missing =
        a.Post("/transactions/new", Json{{"sender", "x"}, {"recipient", "y"}});
    EXPECT_EQ(missing.status, 400);
    EXPECT_EQ(missing.body, "Missing values");

    Json mined = a.GetJson("/mine");
    ASSERT_TRUE(mined.is_object());
    EXPECT_EQ(mined.value("message", ""), "New Block Forged");
    EXPECT_EQ(mined.value("index", 0), 2);
    EXPECT_TRUE(ContainsTx(mined["transactions"], tx_id)) << mined.dump();
    EXPECT_EQ(mined["transactions"].size(), 2u) << "the client's payment and the reward";
    EXPECT_TRUE(mined.contains("proof"));
    EXPECT_TRUE(mined["previous_hash"].is_string());

    Json chain = a.GetJson("/chain");
    ASSERT_TRUE(chain.is_object());
    EXPECT_EQ(chain.value("length", 0), 2);
    ASSERT_EQ(chain["chain"].size(), 2u);
    EXPECT_EQ(chain["chain"][0]["previous_hash"], 1);
    EXPECT_EQ(chain["chain"][0]["proof"], 100);
    EXPECT_TRUE(ChainContainsTx(chain["chain"], tx_id));

    HttpClientResponse registered = b.Post("/nodes/register", Json{{"nodes", {a.Url()}}});
    EXPECT_EQ(registered.status, 201);
    Json registered_body = JsonOf(registered);
    ASSERT_TRUE(registered_body.is_object()) << registered.body;
    EXPECT_EQ(registered_body.value("message", ""), "New nodes have been added");
    Json total = registered_body.value("total_nodes", Json::array());
    EXPECT_NE(std::find(total.begin(), total.end(), Json(a.HostPort())), total.end())
        << registered.body;

    // Registering opens a gossip link that brings A's chain by itself; once it is up, B's
    // resolve finds nothing longer and A, holding the longest chain, is authoritative too.
    ASSERT_TRUE(WaitUntil([&] { return b.Tip() == a.Tip(); })) << b.Log();
    EXPECT_EQ(ResolvedChain(b.Get("/nodes/resolve"), "Our chain is authoritative"), chain["chain"]);
    a.Post("/nodes/register", Json{{"nodes", {b.Url()}}});
    EXPECT_EQ(ResolvedChain(a.Get("/nodes/resolve"), "Our chain is authoritative"), chain["chain"]);
}

TEST(TutorialFlow, ResolveRightAfterRegisterAdoptsTheLongerChain) {
    TempDir root;
    GossipNode a(root, "a", NodeConfig{});
    GossipNode b(root, "b", NodeConfig{});
    ASSERT_EQ(a.Start(), "");
    ASSERT_EQ(b.Start(), "");
    ASSERT_EQ(a.Mine(), 2u);
    ASSERT_EQ(a.Mine(), 3u);
    Json a_chain = a.GetJson("/chain");

    // The tutorial's sequence with nothing in between: register, then resolve. The gossip link
    // may or may not have synced already, which decides the message; either way the answer
    // must carry A's longer chain under the key that goes with its message.
    HttpClientResponse registered = b.Post("/nodes/register", Json{{"nodes", {a.Url()}}});
    ASSERT_EQ(registered.status, 201) << registered.body;
    EXPECT_EQ(ResolvedChain(b.Get("/nodes/resolve")), a_chain["chain"]) << "b's log:\n" << b.Log();
    EXPECT_EQ(b.GetJson("/chain"), a_chain);
}

/** Sends `raw` on a new connection to `port` and returns everything until the node closes. */
std::string Exchange(int port, const std::string& raw) {
    RawClient client(static_cast<std::uint16_t>(port));
    if (!client.Connected() || !client.Send(raw))
        return "";
    WaitUntil([&] { return client.PollClosed(); });
    return client.received;
}

/** The value of header `name` (as the node spells it) in the header section starting at `at`. */
std::string HeaderValue(const std::string& bytes, std::size_t at, const std::string& name) {
    const std::size_t end = bytes.find("\r\n\r\n", at);
    const std::size_t found = bytes.find("\r\n" + name + ": ", at);
    if (found == std::string::npos || found > end)
        return "";
    const std::size_t value = found + name.size() + 4;
    return bytes.substr(value, bytes.find("\r\n", value) - value);
}

TEST(TutorialFlow, BodylessPostsGetTheTutorialsAnswers) {
    TempDir root;
    GossipNode a(root, "a", NodeConfig{});
    ASSERT_EQ(a.Start(), "");
    // No Content-Length, no Transfer-Encoding, no Content-Type: `curl -X POST URL` sends this.
    HttpConnection connection;
    ASSERT_TRUE(connection.Connect("127.0.0.1", a.Port())) << connection.Error();
    ASSERT_TRUE(
        connection.Send("POST /transactions/new HTTP/1.1\r\nHost: a\r\n\r\n"
                        "POST /nodes/register HTTP/1.1\r\nHost: a\r\n\r\n"
                        "POST /mine HTTP/1.1\r\nHost: a\r\n\r\n"
                        "GET /chain HTTP/1.1\r\nHost: a\r\n\r\n"));
    HttpClientResponse tx = connection.ReadResponse();
    EXPECT_EQ(tx.status, 400) << tx.error;
    EXPECT_EQ(tx.body, "Missing values");
    ASSERT_NE(tx.Header("content-type"), nullptr);
    EXPECT_EQ(*tx.Header("content-type"), "text/html; charset=utf-8");
    HttpClientResponse nodes = connection.ReadResponse();
    EXPECT_EQ(nodes.status, 400) << nodes.error;
    EXPECT_EQ(nodes.body, "Error: Please supply a valid list of nodes");
    HttpClientResponse mine = connection.ReadResponse();
    EXPECT_EQ(mine.status, 405) << mine.error;
    ASSERT_NE(mine.Header("allow"), nullptr);
    EXPECT_EQ(*mine.Header("allow"), "GET, HEAD, OPTIONS");
    // The connection stayed open through all of them.
    HttpClientResponse chain = connection.ReadResponse();
    EXPECT_EQ(chain.status, 200) << chain.error;
    EXPECT_EQ(a.Height(), 1u);
}

TEST(TutorialFlow, HeadAnswersLikeGetWithoutTheBody) {
    TempDir root;
    GossipNode a(root, "a", NodeConfig{});
    ASSERT_EQ(a.Start(), "");
    const std::string chain = a.Get("/chain").body;
    ASSERT_FALSE(chain.empty());

    // HEAD, then GET on the same connection: the GET's answer must follow the HEAD's empty line.
    const std::string bytes =
        Exchange(a.Port(),
                 "HEAD /chain HTTP/1.1\r\nHost: a\r\n\r\n"
                 "HEAD /nope HTTP/1.1\r\nHost: a\r\n\r\n"
                 "GET /chain HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    ASSERT_EQ(bytes.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << bytes;
    const std::size_t second = bytes.find("\r\n\r\n") + 4;
    ASSERT_EQ(bytes.compare(second, 22, "HTTP/1.1 404 Not Found"), 0) << bytes;
    const std::size_t third = bytes.find("\r\n\r\n", second) + 4;
    ASSERT_EQ(bytes.compare(third, 15, "HTTP/1.1 200 OK"), 0) << bytes;
    EXPECT_EQ(HeaderValue(bytes, 0, "Content-Length"), std::to_string(chain.size()));
    EXPECT_EQ(HeaderValue(bytes, 0, "Content-Type"), HeaderValue(bytes, third, "Content-Type"));
    EXPECT_EQ(HeaderValue(bytes, 0, "Content-Length"), HeaderValue(bytes, third, "Content-Length"));
    EXPECT_NE(HeaderValue(bytes, 0, "Date"), "");
    EXPECT_EQ(bytes.substr(bytes.find("\r\n\r\n", third) + 4), chain);

    const std::string options =
        Exchange(a.Port(), "OPTIONS /chain HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(options.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << options;
    EXPECT_EQ(HeaderValue(options, 0, "Allow"), "GET, HEAD, OPTIONS");
    EXPECT_EQ(HeaderValue(options, 0, "Content-Length"), "0");
}

}  // namespace
}  // namespace gossipchain::test
