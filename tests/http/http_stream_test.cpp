// Streamed responses (GET /events) through HttpSession: the header section goes out without a
// Content-Length, the session stops there, and Options::on_stream takes the connection over.
#include "http/http_session.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gossipchain {
namespace {

class RecordingHandler final : public HttpStreamHandler {
public:
    void OnStreamOpen(HttpStream&) override { ++opened; }
    void OnStreamClosed(HttpStream&) override { ++closed; }
    int opened = 0;
    int closed = 0;
};

class StreamTest : public ::testing::Test {
protected:
    void SetUp() override {
        m_router.Add("GET", "/events", [this](const HttpRequest&, Responder respond) {
            HttpResponse response;
            response.content_type = "text/event-stream";
            response.stream = &m_handler;
            respond(std::move(response));
        });
        m_router.Add("GET", "/status", [](const HttpRequest&, Responder respond) {
            respond(JsonResponse(200, nlohmann::json{{"ok", true}}));
        });
        m_router.Add("GET", "/mine",
                     [this](const HttpRequest&, Responder respond) { m_later.push_back(respond); });
    }

    HttpSession Session(bool with_taker = true) {
        HttpSession::Options options;
        options.date_header = false;
        if (with_taker) {
            options.on_stream = [this](HttpStreamHandler& handler) {
                ++m_taken;
                EXPECT_EQ(&handler, &m_handler);
            };
        }
        return HttpSession(
            m_router,
            [this](std::string bytes, bool close_after) {
                m_out += bytes;
                m_closes += close_after;
            },
            options);
    }

    Router m_router;
    RecordingHandler m_handler;
    std::vector<Responder> m_later;
    std::string m_out;
    int m_closes = 0;
    int m_taken = 0;
};

TEST_F(StreamTest, AStreamSendsItsHeaderSectionAndHandsTheConnectionOver) {
    HttpSession session = Session();
    session.OnData("GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(m_out,
              "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(m_taken, 1);
    EXPECT_EQ(m_closes, 0);  // the connection stays open for the stream
    EXPECT_TRUE(session.Closing());
    EXPECT_EQ(session.PendingResponses(), 0u);
}

TEST_F(StreamTest, AClientAskingForConnectionCloseStillGetsTheStream) {
    // urllib and curl --http1.0-style clients send it: the stream ends the connection itself,
    // after its body, not after its header section.
    HttpSession session = Session();
    session.OnData("GET /events HTTP/1.1\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(m_taken, 1);
    EXPECT_EQ(m_closes, 0);
}

TEST_F(StreamTest, RequestsAfterAStreamAreNeverAnswered) {
    HttpSession session = Session();
    session.OnData("GET /events HTTP/1.1\r\n\r\nGET /status HTTP/1.1\r\n\r\n");
    session.OnData("GET /status HTTP/1.1\r\n\r\n");
    EXPECT_EQ(m_out.find("\"ok\""), std::string::npos);
    EXPECT_EQ(m_taken, 1);
}

TEST_F(StreamTest, AStreamWaitsForTheAnswersPipelinedBeforeIt) {
    HttpSession session = Session();
    session.OnData("GET /mine HTTP/1.1\r\n\r\nGET /events HTTP/1.1\r\n\r\n");
    EXPECT_EQ(m_taken, 0);
    EXPECT_EQ(m_out, "");
    ASSERT_EQ(m_later.size(), 1u);
    m_later[0](JsonResponse(200, nlohmann::json{{"mined", 1}}));
    EXPECT_EQ(m_taken, 1);
    EXPECT_LT(m_out.find("mined"), m_out.find("text/event-stream"));
}

TEST_F(StreamTest, HeadOfAStreamIsItsHeaderSectionThenClose) {
    HttpSession session = Session();
    session.OnData("HEAD /events HTTP/1.1\r\n\r\n");
    EXPECT_EQ(m_taken, 0);
    EXPECT_EQ(m_closes, 1);
    EXPECT_NE(m_out.find("text/event-stream"), std::string::npos);
}

TEST_F(StreamTest, WithoutATakerAStreamClosesAfterItsHeaderSection) {
    HttpSession session = Session(/*with_taker=*/false);
    session.OnData("GET /events HTTP/1.1\r\n\r\n");
    EXPECT_EQ(m_closes, 1);
    EXPECT_EQ(m_handler.opened, 0);
}

}  // namespace
}  // namespace gossipchain
