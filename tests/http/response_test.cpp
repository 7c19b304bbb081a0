#include "http/response.h"

#include <gtest/gtest.h>

namespace gossipchain {
namespace {

TEST(Response, SerializesStatusHeadersAndBody) {
    HttpResponse response = JsonResponse(201, nlohmann::json{{"message", "hi"}});
    response.headers.emplace_back("Allow", "GET");
    EXPECT_EQ(SerializeResponse(response, true),
              "HTTP/1.1 201 Created\r\n"
              "Content-Type: application/json\r\n"
              "Content-Length: 17\r\n"
              "Connection: keep-alive\r\n"
              "Allow: GET\r\n"
              "\r\n"
              "{\"message\":\"hi\"}\n");
}

TEST(Response, ConnectionCloseAndDate) {
    std::string bytes = SerializeResponse(TextResponse(400, "Missing values"), false, 784111777);
    EXPECT_EQ(bytes,
              "HTTP/1.1 400 Bad Request\r\n"
              "Content-Type: text/html; charset=utf-8\r\n"
              "Content-Length: 14\r\n"
              "Connection: close\r\n"
              "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
              "\r\n"
              "Missing values");
}

TEST(Response, HeadRequestGetsTheSameHeaderSectionWithoutBody) {
    HttpResponse response = JsonResponse(200, nlohmann::json{{"message", "hi"}});
    const std::string get = SerializeResponse(response, true, 784111777);
    const std::string head = SerializeResponse(response, true, 784111777, true);
    EXPECT_EQ(head,
              "HTTP/1.1 200 OK\r\n"
              "Content-Type: application/json\r\n"
              "Content-Length: 17\r\n"
              "Connection: keep-alive\r\n"
              "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
              "\r\n");
    EXPECT_EQ(get, head + response.body);
}

TEST(Response, NoContentTypeWithoutOne) {
    HttpResponse response;
    response.content_type.clear();
    response.headers.emplace_back("Allow", "GET, HEAD, OPTIONS");
    EXPECT_EQ(SerializeResponse(response, true),
              "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n"
              "Allow: GET, HEAD, OPTIONS\r\n\r\n");
}

TEST(Response, FlaskJsonBodyMatchesJsonify) {
    // Bytes from Flask 3: jsonify({"b": [1, 2.5, 1700000000.0], "a": "\u00e9", "c": None}).
    nlohmann::json value = {{"b", {1, 2.5, 1700000000.0}}, {"a", "\xC3\xA9"}, {"c", nullptr}};
    EXPECT_EQ(FlaskJsonBody(value), "{\"a\":\"\\u00e9\",\"b\":[1,2.5,1700000000.0],\"c\":null}\n");
}

TEST(Response, JsonErrorShape) {
    HttpResponse response = JsonErrorResponse(404, "not found: /x");
    EXPECT_EQ(response.status, 404);
    EXPECT_EQ(response.content_type, "application/json");
    EXPECT_EQ(response.body, "{\"error\":\"not found: /x\"}\n");
}

TEST(Response, JsonErrorSurvivesInvalidUtf8) {
    HttpResponse response = JsonErrorResponse(400, "bad \xff byte");
    EXPECT_EQ(response.body, "{\"error\":\"bad ? byte\"}\n");
}

TEST(Response, ReasonPhrases) {
    EXPECT_EQ(ReasonPhrase(200), "OK");
    EXPECT_EQ(ReasonPhrase(405), "Method Not Allowed");
    EXPECT_EQ(ReasonPhrase(501), "Not Implemented");
    EXPECT_EQ(ReasonPhrase(505), "HTTP Version Not Supported");
    EXPECT_EQ(ReasonPhrase(413), "Content Too Large");
    EXPECT_EQ(ReasonPhrase(414), "URI Too Long");
    EXPECT_EQ(ReasonPhrase(415), "Unsupported Media Type");
    EXPECT_EQ(ReasonPhrase(431), "Request Header Fields Too Large");
    EXPECT_EQ(ReasonPhrase(599), "Unknown");
}

}  // namespace
}  // namespace gossipchain
