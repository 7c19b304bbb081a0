#include "http/http_session.h"

#include "http/json_body.h"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace gossipchain {
namespace {

struct Written {
    std::string bytes;
    bool close_after;
};

/** A router with sync, async, JSON and throwing endpoints, plus the output it records. */
class SessionTest : public ::testing::Test {
protected:
    void SetUp() override {
        m_router.Add("GET", "/chain", [](const HttpRequest& request, Responder respond) {
            respond(JsonResponse(200, nlohmann::json{{"path", request.path}}));
        });
        m_router.AddPrefix("GET", "/blocks/", [](const HttpRequest& request, Responder respond) {
            respond(JsonResponse(200, nlohmann::json{{"block", PathSuffix(request, "/blocks/")}}));
        });
        // /mine answers later, when the test says so, like the real one waits for the miner.
        m_router.Add("GET", "/mine", [this](const HttpRequest& request, Responder respond) {
            m_waiting.push_back(respond);
            m_waiting_queries.push_back(request.query);
        });
        m_router.Add("POST", "/transactions/new",
                     [](const HttpRequest& request, Responder respond) {
                         nlohmann::json body;
                         if (auto rejected = ReadJsonObjectBody(request, body)) {
                             respond(std::move(*rejected));
                             return;
                         }
                         if (!body.contains("sender")) {
                             respond(TextResponse(400, "Missing values"));
                             return;
                         }
                         respond(JsonResponse(201, nlohmann::json{{"message", "ok"}}));
                     });
        m_router.Add("GET", "/throw",
                     [](const HttpRequest&, Responder) { throw std::runtime_error("boom"); });
    }

    /** Options without the Date header, so output is byte-exact. */
    static HttpSession::Options Exact() {
        HttpSession::Options options;
        options.date_header = false;
        return options;
    }

    std::unique_ptr<HttpSession> MakeSession(HttpSession::Options options = Exact()) {
        return std::make_unique<HttpSession>(
            m_router,
            [this](std::string bytes, bool close_after) {
                m_written.push_back({std::move(bytes), close_after});
            },
            options);
    }

    /** The status codes of everything written so far, in order. */
    std::vector<int> Statuses() const {
        std::vector<int> statuses;
        for (const Written& w : m_written)
            statuses.push_back(std::stoi(w.bytes.substr(9, 3)));
        return statuses;
    }

    std::string AllBytes() const {
        std::string all;
        for (const Written& w : m_written)
            all += w.bytes;
        return all;
    }

    Router m_router;
    std::vector<Written> m_written;
    std::vector<Responder> m_waiting;
    std::vector<std::string> m_waiting_queries;
};

const std::string GET_CHAIN = "GET /chain HTTP/1.1\r\nHost: x\r\n\r\n";

std::string PostTx(const std::string& body, const std::string& type = "application/json") {
    return "POST /transactions/new HTTP/1.1\r\nContent-Type: " + type +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST_F(SessionTest, KeepAliveRequestGetsKeepAliveResponse) {
    auto session = MakeSession();
    session->OnData(GET_CHAIN);
    ASSERT_EQ(m_written.size(), 1u);
    EXPECT_FALSE(m_written[0].close_after);
    EXPECT_EQ(m_written[0].bytes,
              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 18\r\n"
              "Connection: keep-alive\r\n\r\n{\"path\":\"/chain\"}\n");
    EXPECT_FALSE(session->Closing());
    session->OnData(GET_CHAIN);
    EXPECT_EQ(m_written.size(), 2u);
}

TEST_F(SessionTest, ConnectionCloseClosesAfterTheResponse) {
    auto session = MakeSession();
    session->OnData("GET /chain HTTP/1.1\r\nConnection: close\r\n\r\n" + GET_CHAIN);
    ASSERT_EQ(m_written.size(), 1u);
    EXPECT_TRUE(m_written[0].close_after);
    EXPECT_NE(m_written[0].bytes.find("Connection: close\r\n"), std::string::npos);
    EXPECT_TRUE(session->Closing());
    session->OnData(GET_CHAIN);
    EXPECT_EQ(m_written.size(), 1u);
}

TEST_F(SessionTest, Http10ClosesUnlessKeepAlive) {
    auto plain = MakeSession();
    plain->OnData("GET /chain HTTP/1.0\r\n\r\n");
    ASSERT_EQ(m_written.size(), 1u);
    EXPECT_TRUE(m_written[0].close_after);
    EXPECT_NE(m_written[0].bytes.find("Connection: close\r\n"), std::string::npos);

    m_written.clear();
    auto kept = MakeSession();
    kept->OnData("GET /chain HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    ASSERT_EQ(m_written.size(), 1u);
    EXPECT_FALSE(m_written[0].close_after);
    EXPECT_NE(m_written[0].bytes.find("Connection: keep-alive\r\n"), std::string::npos);
}

TEST_F(SessionTest, EveryByteBoundaryGivesTheSameOutput) {
    const std::string stream =
        PostTx(R"({"sender": "a"})") + GET_CHAIN + "GET /blocks/9 HTTP/1.1\r\n\r\n";
    auto whole = MakeSession();
    whole->OnData(stream);
    const std::string expected = AllBytes();
    ASSERT_EQ(Statuses(), (std::vector<int>{201, 200, 200}));
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        m_written.clear();
        auto session = MakeSession();
        session->OnData(stream.substr(0, cut));
        session->OnData(stream.substr(cut));
        EXPECT_EQ(AllBytes(), expected) << "cut at " << cut;
    }
}

TEST_F(SessionTest, PipelinedRequestsAcrossChunks) {
    auto session = MakeSession();
    const std::string two = GET_CHAIN + "GET /blocks/1 HTTP/1.1\r\n\r\n";
    session->OnData(two + "GET /blo");
    EXPECT_EQ(m_written.size(), 2u);
    session->OnData("cks/2 HTTP/1.1\r\n\r\n" + GET_CHAIN);
    ASSERT_EQ(m_written.size(), 4u);
    EXPECT_NE(m_written[1].bytes.find("{\"block\":\"1\"}"), std::string::npos);
    EXPECT_NE(m_written[2].bytes.find("{\"block\":\"2\"}"), std::string::npos);
}

TEST_F(SessionTest, AsyncAnswersAreWrittenInRequestOrder) {
    auto session = MakeSession();
    session->OnData("GET /mine?n=1 HTTP/1.1\r\n\r\n" + GET_CHAIN +
                    "GET /mine?n=2 HTTP/1.1\r\n\r\n" + "GET /blocks/5 HTTP/1.1\r\n\r\n");
    ASSERT_EQ(m_waiting.size(), 2u);
    EXPECT_TRUE(m_written.empty());  // /chain is answered but waits behind the first /mine
    EXPECT_EQ(session->PendingResponses(), 4u);

    m_waiting[1](JsonResponse(200, nlohmann::json{{"mined", 2}}));
    EXPECT_TRUE(m_written.empty());
    m_waiting[0](JsonResponse(200, nlohmann::json{{"mined", 1}}));
    ASSERT_EQ(m_written.size(), 4u);
    EXPECT_NE(m_written[0].bytes.find("{\"mined\":1}"), std::string::npos);
    EXPECT_NE(m_written[1].bytes.find("/chain"), std::string::npos);
    EXPECT_NE(m_written[2].bytes.find("{\"mined\":2}"), std::string::npos);
    EXPECT_NE(m_written[3].bytes.find("{\"block\":\"5\"}"), std::string::npos);
    EXPECT_EQ(session->PendingResponses(), 0u);
}

TEST_F(SessionTest, SecondAnswerToOneRequestIsIgnored) {
    auto session = MakeSession();
    session->OnData("GET /mine HTTP/1.1\r\n\r\n");
    ASSERT_EQ(m_waiting.size(), 1u);
    Responder copy = m_waiting[0];
    m_waiting[0](JsonResponse(200, nlohmann::json{{"n", 1}}));
    copy(JsonResponse(500, nlohmann::json{{"n", 2}}));
    ASSERT_EQ(m_written.size(), 1u);
    EXPECT_EQ(Statuses(), std::vector<int>{200});
}

TEST_F(SessionTest, AnswerAfterSessionIsGoneIsANoOp) {
    auto session = MakeSession();
    session->OnData("GET /mine HTTP/1.1\r\n\r\n");
    ASSERT_EQ(m_waiting.size(), 1u);
    session.reset();
    m_waiting[0](JsonResponse(200, nullptr));
    EXPECT_TRUE(m_written.empty());
}

TEST_F(SessionTest, OutputMayDestroyTheSession) {
    std::unique_ptr<HttpSession> session;
    int writes = 0;
    session = std::make_unique<HttpSession>(
        m_router,
        [&](std::string, bool close_after) {
            ++writes;
            if (close_after)
                session.reset();  // what a transport does on close
        },
        Exact());
    session->OnData(GET_CHAIN + "GET /chain HTTP/1.1\r\nConnection: close\r\n\r\n" + GET_CHAIN);
    EXPECT_EQ(writes, 2);
    EXPECT_EQ(session, nullptr);
}

TEST_F(SessionTest, ParseErrorWaitsBehindPendingAnswersThenCloses) {
    auto session = MakeSession();
    session->OnData("GET /mine HTTP/1.1\r\n\r\nGARBAGE\r\n\r\n");
    EXPECT_TRUE(m_written.empty());
    EXPECT_TRUE(session->Closing());
    m_waiting[0](JsonResponse(200, nullptr));
    ASSERT_EQ(Statuses(), (std::vector<int>{200, 400}));
    EXPECT_FALSE(m_written[0].close_after);
    EXPECT_TRUE(m_written[1].close_after);
    EXPECT_NE(m_written[1].bytes.find("Connection: close\r\n"), std::string::npos);
}

TEST_F(SessionTest, ErrorCodes) {
    struct Case {
        std::string bytes;
        int status;
        bool close_after;
    };
    const std::vector<Case> cases = {
        {"NOT HTTP AT ALL\r\n\r\n", 400, true},
        {"GET /nope HTTP/1.1\r\n\r\n", 404, false},
        {"POST /chain HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405, false},
        // No Content-Length and no Transfer-Encoding: an empty body for the handler, no 411.
        {"POST /transactions/new HTTP/1.1\r\n\r\n", 415, false},
        {"POST /transactions/new HTTP/1.1\r\nContent-Type: application/json\r\n"
         "Content-Length: 100000000000\r\n\r\n",
         413, true},
        {PostTx(R"({"sender": "a"})", "text/plain"), 415, false},
        {PostTx("{oops"), 400, false},
        {PostTx(R"({"recipient": "a"})"), 400, false},
        {"GET / HTTP/1.1\r\nX-Big: " + std::string(2 * 1024 * 1024, 'h') + "\r\n\r\n", 431, true},
        {"GET /" + std::string(MAX_HTTP_TARGET_BYTES, 'u') + " HTTP/1.1\r\n\r\n", 414, true},
        {"GET /a%zz HTTP/1.1\r\n\r\n", 400, true},
        {"POST /transactions/new HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, true},
        {"POST /transactions/new HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400, true},
        {"GET /throw HTTP/1.1\r\n\r\n", 500, false},
    };
    for (const Case& c : cases) {
        m_written.clear();
        auto session = MakeSession();
        session->OnData(c.bytes);
        ASSERT_EQ(m_written.size(), 1u) << c.bytes.substr(0, 80);
        EXPECT_EQ(Statuses()[0], c.status) << c.bytes.substr(0, 80);
        EXPECT_EQ(m_written[0].close_after, c.close_after) << c.bytes.substr(0, 80);
        EXPECT_EQ(session->Closing(), c.close_after);
    }
}

TEST_F(SessionTest, NotFoundAndMethodNotAllowedBodies) {
    auto session = MakeSession();
    session->OnData("GET /x HTTP/1.1\r\n\r\nDELETE /transactions/new HTTP/1.1\r\n\r\n");
    ASSERT_EQ(m_written.size(), 2u);
    EXPECT_NE(m_written[0].bytes.find("\r\n\r\n{\"error\":\"not found: /x\"}\n"),
              std::string::npos);
    EXPECT_NE(m_written[1].bytes.find("HTTP/1.1 405 Method Not Allowed\r\n"), std::string::npos);
    EXPECT_NE(m_written[1].bytes.find("\r\nAllow: OPTIONS, POST\r\n"), std::string::npos);
}

TEST_F(SessionTest, TutorialPlainTextError) {
    auto session = MakeSession();
    session->OnData(PostTx(R"({"amount": 5})"));
    ASSERT_EQ(m_written.size(), 1u);
    EXPECT_NE(m_written[0].bytes.find("Content-Type: text/html; charset=utf-8\r\n"),
              std::string::npos);
    EXPECT_EQ(m_written[0].bytes.substr(m_written[0].bytes.size() - 14), "Missing values");
}

TEST_F(SessionTest, TooDeepPipelineGets503AndClose) {
    HttpSession::Options options = Exact();
    options.max_pipeline_depth = 2;
    auto session = MakeSession(options);
    session->OnData(
        "GET /mine HTTP/1.1\r\n\r\nGET /mine HTTP/1.1\r\n\r\nGET /mine HTTP/1.1\r\n\r\n");
    EXPECT_EQ(m_waiting.size(), 2u);
    EXPECT_TRUE(session->Closing());
    m_waiting[0](JsonResponse(200, nullptr));
    m_waiting[1](JsonResponse(200, nullptr));
    EXPECT_EQ(Statuses(), (std::vector<int>{200, 200, 503}));
    EXPECT_TRUE(m_written.back().close_after);
}

TEST_F(SessionTest, DateHeaderByDefault) {
    auto session = MakeSession(HttpSession::Options{});
    session->OnData(GET_CHAIN);
    ASSERT_EQ(m_written.size(), 1u);
    EXPECT_NE(m_written[0].bytes.find("\r\nDate: "), std::string::npos);
    EXPECT_NE(m_written[0].bytes.find(" GMT\r\n"), std::string::npos);
}

TEST_F(SessionTest, ExpectContinueGetsAnInterimResponse) {
    auto session = MakeSession();
    const std::string body = R"({"sender": "a"})";
    session->OnData(
        "POST /transactions/new HTTP/1.1\r\nContent-Type: application/json\r\n"
        "Expect: 100-continue\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n");
    ASSERT_EQ(m_written.size(), 1u);
    EXPECT_EQ(m_written[0].bytes, "HTTP/1.1 100 Continue\r\n\r\n");
    EXPECT_FALSE(m_written[0].close_after);
    session->OnData(body);
    EXPECT_EQ(Statuses(), (std::vector<int>{100, 201}));
}

TEST_F(SessionTest, ExpectContinueWaitsWhenAnswersArePending) {
    auto session = MakeSession();
    session->OnData(
        "GET /mine HTTP/1.1\r\n\r\nPOST /transactions/new HTTP/1.1\r\n"
        "Expect: 100-continue\r\nContent-Length: 2\r\n\r\n");
    EXPECT_TRUE(m_written.empty());  // a 100 here would jump ahead of the /mine answer
    m_waiting[0](JsonResponse(200, nullptr));
    EXPECT_EQ(Statuses(), std::vector<int>{200});
}

/** The bytes of `response` up to and including the empty line that ends its header section. */
std::string HeaderSection(const std::string& response) {
    return response.substr(0, response.find("\r\n\r\n") + 4);
}

TEST_F(SessionTest, HeadGetsTheGetHeadersWithoutBodyAndThePipelineGoesOn) {
    auto get = MakeSession();
    get->OnData(GET_CHAIN + "GET /nope HTTP/1.1\r\n\r\n");
    ASSERT_EQ(m_written.size(), 2u);
    const std::string get_chain = m_written[0].bytes;
    const std::string get_nope = m_written[1].bytes;

    m_written.clear();
    auto session = MakeSession();
    session->OnData("HEAD /chain HTTP/1.1\r\nHost: x\r\n\r\nHEAD /nope HTTP/1.1\r\n\r\n" +
                    GET_CHAIN);
    ASSERT_EQ(m_written.size(), 3u);
    EXPECT_EQ(m_written[0].bytes, HeaderSection(get_chain));
    EXPECT_NE(m_written[0].bytes.find("\r\nContent-Length: 18\r\n"), std::string::npos);
    EXPECT_EQ(m_written[1].bytes, HeaderSection(get_nope));
    EXPECT_EQ(Statuses(), (std::vector<int>{200, 404, 200}));
    EXPECT_EQ(m_written[2].bytes, get_chain);
    EXPECT_FALSE(session->Closing());
}

TEST_F(SessionTest, HeadAnsweredLaterStillHasNoBody) {
    auto session = MakeSession();
    session->OnData("HEAD /mine HTTP/1.1\r\n\r\n" + GET_CHAIN);
    ASSERT_EQ(m_waiting.size(), 1u);
    m_waiting[0](JsonResponse(200, nlohmann::json{{"mined", 1}}));
    ASSERT_EQ(m_written.size(), 2u);
    EXPECT_EQ(m_written[0].bytes,
              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n"
              "Connection: keep-alive\r\n\r\n");
    EXPECT_NE(m_written[1].bytes.find("{\"path\":\"/chain\"}\n"), std::string::npos);
}

TEST_F(SessionTest, HeadErrorsHaveNoBodyEither) {
    const std::vector<std::string> heads = {
        "HEAD /chain HTTP/1.1\r\nConnection: close\r\n\r\n",
        "HEAD /transactions/new HTTP/1.1\r\n\r\n",                                 // 405
        "HEAD /" + std::string(MAX_HTTP_TARGET_BYTES, 'u') + " HTTP/1.1\r\n\r\n",  // 414
        "HEAD /chain HTTP/2.0\r\n\r\n",                                            // 505
        "HEAD /throw HTTP/1.1\r\n\r\n",                                            // 500
    };
    for (const std::string& head : heads) {
        m_written.clear();
        auto session = MakeSession();
        session->OnData(head);
        ASSERT_EQ(m_written.size(), 1u) << head.substr(0, 60);
        EXPECT_EQ(m_written[0].bytes, HeaderSection(m_written[0].bytes)) << head.substr(0, 60);
        EXPECT_EQ(m_written[0].bytes.find("Content-Length: 0\r\n"), std::string::npos)
            << "a HEAD answer keeps the length GET's body would have";
    }
    m_written.clear();
    auto slow = MakeSession();
    slow->OnData("HEAD /chain HTTP/1.1\r\nHost: x");
    slow->TimeOut();
    ASSERT_EQ(Statuses(), std::vector<int>{408});
    EXPECT_EQ(m_written[0].bytes, HeaderSection(m_written[0].bytes));
}

TEST_F(SessionTest, BodylessPostReachesItsHandlerAndKeepsTheConnection) {
    auto session = MakeSession();
    session->OnData("POST /chain HTTP/1.1\r\nHost: x\r\n\r\n" + GET_CHAIN);
    ASSERT_EQ(Statuses(), (std::vector<int>{405, 200}));
    EXPECT_NE(m_written[0].bytes.find("\r\nAllow: GET, HEAD, OPTIONS\r\n"), std::string::npos);
    EXPECT_FALSE(session->Closing());
}

TEST_F(SessionTest, OptionsAnswersAllowWithoutContent) {
    auto session = MakeSession();
    session->OnData("OPTIONS /chain HTTP/1.1\r\n\r\nOPTIONS * HTTP/1.1\r\n\r\n" + GET_CHAIN);
    ASSERT_EQ(m_written.size(), 3u);
    EXPECT_EQ(m_written[0].bytes,
              "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n"
              "Allow: GET, HEAD, OPTIONS\r\n\r\n");
    EXPECT_EQ(m_written[1].bytes,
              "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n"
              "Allow: GET, HEAD, OPTIONS, POST\r\n\r\n");
    EXPECT_EQ(Statuses()[2], 200);
}

TEST_F(SessionTest, RequestsWaitWhileTheClientHasNotReadItsAnswers) {
    // The server says "not now" while the client has unread answers queued: pipelined requests
    // are held, in order, and a parse error after them is answered after them.
    bool may = false;
    HttpSession::Options options = Exact();
    options.may_dispatch = [&may] { return may; };
    auto session = MakeSession(options);
    session->OnData("GET /chain HTTP/1.1\r\n\r\nGET /blocks/7 HTTP/1.1\r\n\r\nGARBAGE\r\n\r\n");
    EXPECT_TRUE(m_written.empty());
    EXPECT_EQ(session->WaitingRequests(), 2u);
    EXPECT_EQ(session->PendingResponses(), 0u);
    may = true;
    session->Resume();
    EXPECT_EQ(Statuses(), (std::vector<int>{200, 200, 400}));
    EXPECT_NE(m_written[1].bytes.find("\"block\":\"7\""), std::string::npos);
    EXPECT_TRUE(m_written.back().close_after);
    EXPECT_EQ(session->WaitingRequests(), 0u);
}

TEST_F(SessionTest, HeldRequestsCountTowardsThePipelineDepth) {
    HttpSession::Options options = Exact();
    options.max_pipeline_depth = 3;
    options.may_dispatch = [] { return false; };
    auto session = MakeSession(options);
    std::string four;
    for (int i = 0; i < 4; ++i)
        four += "GET /chain HTTP/1.1\r\n\r\n";
    session->OnData(four);
    EXPECT_EQ(session->WaitingRequests(), 3u);
    EXPECT_TRUE(session->Closing());
    // More input is not read: the 503 that ends the connection is already owed.
    session->OnData("GET /chain HTTP/1.1\r\n\r\n");
    EXPECT_EQ(session->WaitingRequests(), 3u);
}

}  // namespace
}  // namespace gossipchain
