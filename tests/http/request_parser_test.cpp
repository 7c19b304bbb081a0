#include "http/request_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gossipchain {
namespace {

const std::string POST_TX =
    "POST /transactions/new HTTP/1.1\r\n"
    "Host: 127.0.0.1:5000\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 13\r\n"
    "\r\n"
    "{\"amount\": 5}";

const std::string GET_CHAIN = "GET /chain HTTP/1.1\r\nHost: x\r\n\r\n";

/** Feeds `bytes` and returns everything the parser produced. */
HttpFeedResult FeedAll(RequestParser& parser, const std::vector<std::string>& chunks) {
    HttpFeedResult all;
    for (const std::string& chunk : chunks) {
        HttpFeedResult fed = parser.Feed(chunk);
        for (auto& r : fed.requests)
            all.requests.push_back(std::move(r));
        if (fed.error)
            all.error = fed.error;
    }
    return all;
}

HttpError ErrorFor(const std::string& bytes, RequestParser::Options options = {}) {
    RequestParser parser(options);
    HttpFeedResult fed = parser.Feed(bytes);
    EXPECT_TRUE(fed.error.has_value()) << bytes.substr(0, 200);
    EXPECT_TRUE(parser.Finished());
    return fed.error.value_or(HttpError{0, ""});
}

TEST(RequestParser, ParsesPostWithHeadersAndBody) {
    RequestParser parser;
    HttpFeedResult fed = parser.Feed(POST_TX);
    ASSERT_FALSE(fed.error);
    ASSERT_EQ(fed.requests.size(), 1u);
    const HttpRequest& req = fed.requests[0];
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.target, "/transactions/new");
    EXPECT_EQ(req.path, "/transactions/new");
    EXPECT_EQ(req.query, "");
    EXPECT_EQ(req.body, "{\"amount\": 5}");
    EXPECT_TRUE(req.keep_alive);
    EXPECT_EQ(req.http_minor, 1);
    ASSERT_NE(req.Header("content-type"), nullptr);
    EXPECT_EQ(*req.Header("content-type"), "application/json");
    EXPECT_EQ(*req.Header("host"), "127.0.0.1:5000");
    EXPECT_EQ(req.Header("Content-Type"), nullptr);  // lookups use lowercase names
    EXPECT_FALSE(parser.Finished());
}

TEST(RequestParser, SplitAtEveryByteBoundaryGivesTheSameRequests) {
    const std::string stream = POST_TX + GET_CHAIN;
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        RequestParser parser;
        HttpFeedResult all = FeedAll(parser, {stream.substr(0, cut), stream.substr(cut)});
        ASSERT_FALSE(all.error) << "cut at " << cut;
        ASSERT_EQ(all.requests.size(), 2u) << "cut at " << cut;
        EXPECT_EQ(all.requests[0].body, "{\"amount\": 5}") << "cut at " << cut;
        EXPECT_EQ(*all.requests[0].Header("content-length"), "13") << "cut at " << cut;
        EXPECT_EQ(all.requests[1].path, "/chain") << "cut at " << cut;
    }
}

TEST(RequestParser, OneByteAtATime) {
    const std::string stream = GET_CHAIN + POST_TX;
    RequestParser parser;
    std::vector<std::string> chunks;
    for (char c : stream)
        chunks.emplace_back(1, c);
    HttpFeedResult all = FeedAll(parser, chunks);
    ASSERT_FALSE(all.error);
    ASSERT_EQ(all.requests.size(), 2u);
    EXPECT_EQ(all.requests[0].method, "GET");
    EXPECT_EQ(all.requests[1].body, "{\"amount\": 5}");
}

TEST(RequestParser, PipelinedRequestsInOneChunkComeOutInOrder) {
    RequestParser parser;
    std::string stream;
    for (int i = 0; i < 5; ++i)
        stream += "GET /blocks/" + std::to_string(i) + " HTTP/1.1\r\n\r\n";
    HttpFeedResult fed = parser.Feed(stream);
    ASSERT_FALSE(fed.error);
    ASSERT_EQ(fed.requests.size(), 5u);
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(fed.requests[i].path, "/blocks/" + std::to_string(i));
}

TEST(RequestParser, QueryAndPercentDecoding) {
    RequestParser parser;
    HttpFeedResult fed = parser.Feed("GET /blocks/a%20b%2Fc?x=1&y=%41#frag HTTP/1.1\r\n\r\n");
    ASSERT_EQ(fed.requests.size(), 1u);
    EXPECT_EQ(fed.requests[0].path, "/blocks/a b/c");
    EXPECT_EQ(fed.requests[0].query, "x=1&y=%41");
}

TEST(RequestParser, PercentEncodingGarbageIs400) {
    EXPECT_EQ(ErrorFor("GET /a%zz HTTP/1.1\r\n\r\n").status, 400);
    EXPECT_EQ(ErrorFor("GET /a%4 HTTP/1.1\r\n\r\n").status, 400);
    EXPECT_EQ(ErrorFor("GET /a% HTTP/1.1\r\n\r\n").status, 400);
    EXPECT_EQ(ErrorFor("GET /a%00b HTTP/1.1\r\n\r\n").status, 400);
    EXPECT_EQ(ErrorFor("GET /a%ff%fe HTTP/1.1\r\n\r\n").status, 400);  // not UTF-8
    EXPECT_EQ(ErrorFor("GET /a%C0%AF HTTP/1.1\r\n\r\n").status, 400);  // overlong '/'
}

TEST(RequestParser, DecodePercentPathAcceptsUtf8) {
    std::string out;
    EXPECT_TRUE(DecodePercentPath("/%E2%82%AC", out));
    EXPECT_EQ(out, "/\xE2\x82\xAC");
    EXPECT_FALSE(DecodePercentPath("/%E2%82", out));
}

TEST(RequestParser, MalformedRequestIs400AndParserIsDead) {
    RequestParser parser;
    HttpFeedResult fed = parser.Feed("HELLO\r\n\r\n");
    ASSERT_TRUE(fed.error);
    EXPECT_EQ(fed.error->status, 400);
    EXPECT_TRUE(parser.Finished());
    HttpFeedResult after = parser.Feed(GET_CHAIN);
    EXPECT_TRUE(after.requests.empty());
    EXPECT_FALSE(after.error);
}

TEST(RequestParser, NonOriginTargetIs400) {
    EXPECT_EQ(ErrorFor("GET chain HTTP/1.1\r\n\r\n").status, 400);
}

TEST(RequestParser, RequestsBeforeAnErrorAreStillReturned) {
    RequestParser parser;
    HttpFeedResult fed = parser.Feed(GET_CHAIN + "BAD REQUEST\r\n\r\n");
    ASSERT_EQ(fed.requests.size(), 1u);
    EXPECT_EQ(fed.requests[0].path, "/chain");
    ASSERT_TRUE(fed.error);
    EXPECT_EQ(fed.error->status, 400);
}

TEST(RequestParser, PostWithoutLengthHasEmptyBodyAndTheNextRequestFollows) {
    // RFC 9112 section 6.3: neither Content-Length nor Transfer-Encoding means no content.
    RequestParser parser;
    HttpFeedResult fed = parser.Feed(
        "POST /nodes/register HTTP/1.1\r\nHost: x\r\n\r\nPUT /x HTTP/1.1\r\n\r\n" + GET_CHAIN);
    ASSERT_FALSE(fed.error) << fed.error->status;
    ASSERT_EQ(fed.requests.size(), 3u);
    EXPECT_EQ(fed.requests[0].method, "POST");
    EXPECT_TRUE(fed.requests[0].body.empty());
    EXPECT_EQ(fed.requests[1].method, "PUT");
    EXPECT_TRUE(fed.requests[1].body.empty());
    EXPECT_EQ(fed.requests[2].path, "/chain");
    EXPECT_FALSE(parser.Finished());
}

TEST(RequestParser, AbsoluteFormTargetIsAccepted) {
    RequestParser parser;
    HttpFeedResult fed = parser.Feed(
        "GET http://127.0.0.1:5000/blocks/a%20b?x=1 HTTP/1.1\r\n\r\n"
        "GET HTTPS://node.example HTTP/1.1\r\n\r\nGET http://h?q HTTP/1.1\r\n\r\n");
    ASSERT_FALSE(fed.error) << fed.error->message;
    ASSERT_EQ(fed.requests.size(), 3u);
    EXPECT_EQ(fed.requests[0].path, "/blocks/a b");
    EXPECT_EQ(fed.requests[0].query, "x=1");
    EXPECT_EQ(fed.requests[0].target, "http://127.0.0.1:5000/blocks/a%20b?x=1");
    EXPECT_EQ(fed.requests[1].path, "/");
    EXPECT_EQ(fed.requests[2].path, "/");
    EXPECT_EQ(fed.requests[2].query, "q");
    EXPECT_EQ(ErrorFor("GET http:///chain HTTP/1.1\r\n\r\n").status, 400);
    EXPECT_EQ(ErrorFor("GET ftp://h/chain HTTP/1.1\r\n\r\n").status, 400);
}

TEST(RequestParser, AsteriskTargetIsForOptionsOnly) {
    RequestParser parser;
    HttpFeedResult fed = parser.Feed("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_FALSE(fed.error) << fed.error->message;
    ASSERT_EQ(fed.requests.size(), 1u);
    EXPECT_EQ(fed.requests[0].method, "OPTIONS");
    EXPECT_EQ(fed.requests[0].path, "*");
    EXPECT_EQ(ErrorFor("GET * HTTP/1.1\r\n\r\n").status, 400);
}

TEST(RequestParser, VersionOtherThanOneIs505) {
    EXPECT_EQ(ErrorFor("GET /chain HTTP/2.0\r\n\r\n").status, 505);
    EXPECT_EQ(ErrorFor("GET /chain HTTP/0.9\r\n\r\n").status, 505);
    EXPECT_EQ(ErrorFor("GET /chain HTTP/3.1\r\n\r\n").status, 505);
    EXPECT_EQ(ErrorFor("GET /chain HTTP/1.2\r\n\r\n").status, 505);
    EXPECT_EQ(ErrorFor("GET /chain HTTP/x.1\r\n\r\n").status, 400);
    EXPECT_EQ(ErrorFor("GET /chain HTTP/11\r\n\r\n").status, 400);
}

TEST(RequestParser, ErrorsSayWhetherTheFailedRequestIsAHead) {
    EXPECT_TRUE(
        ErrorFor("HEAD /" + std::string(MAX_HTTP_TARGET_BYTES, 'a') + " HTTP/1.1\r\n\r\n").head);
    EXPECT_TRUE(ErrorFor("HEAD /chain HTTP/2.0\r\n\r\n").head);
    EXPECT_FALSE(ErrorFor("GET /chain HTTP/2.0\r\n\r\n").head);
    // A HEAD answered before the failing request does not make the failure a HEAD.
    RequestParser parser;
    HttpFeedResult fed = parser.Feed("HEAD /chain HTTP/1.1\r\n\r\nGET /a%zz HTTP/1.1\r\n\r\n");
    ASSERT_TRUE(fed.error);
    EXPECT_FALSE(fed.error->head);

    RequestParser partial;
    partial.Feed("HEAD /chain HTTP/1.1\r\nHost:");
    EXPECT_TRUE(partial.InHeadRequest());
    partial.Feed(" x\r\n\r\nGET /chain HTTP/1.1\r\nHost:");
    EXPECT_TRUE(partial.InRequest());
    EXPECT_FALSE(partial.InHeadRequest());
}

TEST(RequestParser, GetWithoutLengthHasEmptyBody) {
    RequestParser parser;
    HttpFeedResult fed = parser.Feed(GET_CHAIN);
    ASSERT_EQ(fed.requests.size(), 1u);
    EXPECT_TRUE(fed.requests[0].body.empty());
}

TEST(RequestParser, HugeContentLengthIs413BeforeTheBodyArrives) {
    RequestParser parser;
    HttpFeedResult fed =
        parser.Feed("POST /transactions/new HTTP/1.1\r\nContent-Length: 100000000000\r\n\r\n");
    ASSERT_TRUE(fed.error);
    EXPECT_EQ(fed.error->status, 413);
}

TEST(RequestParser, BodyAtTheLimitIsAccepted) {
    RequestParser::Options options;
    options.max_body_bytes = 10;
    RequestParser parser(options);
    HttpFeedResult fed = parser.Feed("POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789");
    ASSERT_FALSE(fed.error);
    ASSERT_EQ(fed.requests.size(), 1u);
    EXPECT_EQ(fed.requests[0].body, "0123456789");
    EXPECT_EQ(ErrorFor("POST /x HTTP/1.1\r\nContent-Length: 11\r\n\r\n", options).status, 413);
}

TEST(RequestParser, ChunkedBodyIsDecoded) {
    RequestParser parser;
    HttpFeedResult fed = parser.Feed(
        "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n" +
        GET_CHAIN);
    ASSERT_FALSE(fed.error);
    ASSERT_EQ(fed.requests.size(), 2u);
    EXPECT_EQ(fed.requests[0].body, "abcde");
    EXPECT_EQ(fed.requests[1].path, "/chain");
}

TEST(RequestParser, ChunkedBodyOverTheLimitIs413WhileStreaming) {
    RequestParser parser;
    HttpFeedResult fed = parser.Feed("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    ASSERT_FALSE(fed.error);
    const std::string chunk(64 * 1024, 'a');
    std::string framed = "10000\r\n" + chunk + "\r\n";
    std::optional<HttpError> error;
    std::size_t sent = 0;
    // Never sends the final chunk: the limit must trip on the data alone.
    while (!error && sent <= 2 * MAX_HTTP_BODY_BYTES) {
        HttpFeedResult more = parser.Feed(framed);
        EXPECT_TRUE(more.requests.empty());
        error = more.error;
        sent += chunk.size();
    }
    ASSERT_TRUE(error);
    EXPECT_EQ(error->status, 413);
    EXPECT_LE(sent, MAX_HTTP_BODY_BYTES + chunk.size());
}

TEST(RequestParser, UnsupportedTransferCodingIs501) {
    EXPECT_EQ(ErrorFor("POST /x HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").status, 501);
    EXPECT_EQ(ErrorFor("POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n")
                  .status,
              501);
}

TEST(RequestParser, TransferCodingWithoutFinalChunkedIs400) {
    // RFC 9112 section 6.3: the body's end cannot be known, so 400 and close.
    EXPECT_EQ(ErrorFor("POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n").status, 400);
    EXPECT_EQ(ErrorFor("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n").status, 400);
    EXPECT_EQ(ErrorFor("POST /x HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n").status, 400);
}

TEST(RequestParser, TransferEncodingInHttp10Is400) {
    // RFC 9112 section 6.1: HTTP/1.0 framing with Transfer-Encoding is faulty, even kept alive.
    EXPECT_EQ(ErrorFor("POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n"
                       "Connection: keep-alive\r\n\r\n0\r\n\r\nGET /chain HTTP/1.1\r\n\r\n")
                  .status,
              400);
}

TEST(RequestParser, ContentLengthWithChunkedIs400) {
    EXPECT_EQ(ErrorFor("POST /x HTTP/1.1\r\nContent-Length: 3\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n")
                  .status,
              400);
}

TEST(RequestParser, HugeHeaderIs431) {
    std::string huge = "GET / HTTP/1.1\r\nX-Big: " + std::string(2 * 1024 * 1024, 'a') + "\r\n\r\n";
    EXPECT_EQ(ErrorFor(huge).status, 431);
}

TEST(RequestParser, HugeHeaderInSmallChunksIs431) {
    RequestParser parser;
    HttpFeedResult fed = parser.Feed("GET / HTTP/1.1\r\nX-Big: ");
    std::size_t sent = 0;
    while (!fed.error && sent < 2 * 1024 * 1024) {
        fed = parser.Feed(std::string(1000, 'a'));
        sent += 1000;
    }
    ASSERT_TRUE(fed.error);
    EXPECT_EQ(fed.error->status, 431);
    EXPECT_LE(sent, MAX_HTTP_HEADER_BYTES + 1000);
}

TEST(RequestParser, WhitespaceCountsTowardsTheHeaderLimit) {
    // Leading blanks of a value produce no llhttp span, so only exact byte counting sees them.
    std::string padded =
        "GET / HTTP/1.1\r\nX-Pad:" + std::string(MAX_HTTP_HEADER_BYTES + 10, ' ') + "v\r\n\r\n";
    EXPECT_EQ(ErrorFor(padded).status, 431);
}

TEST(RequestParser, ManySmallHeadersAre431) {
    std::string many = "GET / HTTP/1.1\r\n";
    for (std::size_t i = 0; i <= MAX_HTTP_HEADER_COUNT; ++i) {
        many += "X-" + std::to_string(i) + ": 1\r\n";
    }
    EXPECT_EQ(ErrorFor(many + "\r\n").status, 431);
}

TEST(RequestParser, HeaderLimitIsPerRequest) {
    // Many pipelined requests together exceed the header limit; each alone does not.
    std::string stream;
    const std::string one = "GET /chain HTTP/1.1\r\nX-Fill: " + std::string(1000, 'f') + "\r\n\r\n";
    while (stream.size() < 4 * MAX_HTTP_HEADER_BYTES)
        stream += one;
    RequestParser parser;
    HttpFeedResult fed = parser.Feed(stream);
    ASSERT_FALSE(fed.error);
    EXPECT_EQ(fed.requests.size(), stream.size() / one.size());
}

TEST(RequestParser, LongTargetIs414) {
    EXPECT_EQ(
        ErrorFor("GET /" + std::string(MAX_HTTP_TARGET_BYTES, 'a') + " HTTP/1.1\r\n\r\n").status,
        414);
}

TEST(RequestParser, ConnectionCloseFinishesTheParser) {
    RequestParser parser;
    HttpFeedResult fed =
        parser.Feed("GET /chain HTTP/1.1\r\nConnection: close\r\n\r\n" + GET_CHAIN);
    ASSERT_FALSE(fed.error);
    ASSERT_EQ(fed.requests.size(), 1u);
    EXPECT_FALSE(fed.requests[0].keep_alive);
    EXPECT_TRUE(parser.Finished());
}

TEST(RequestParser, Http10DefaultsToCloseUnlessKeepAlive) {
    RequestParser plain;
    HttpFeedResult fed = plain.Feed("GET /chain HTTP/1.0\r\n\r\n");
    ASSERT_EQ(fed.requests.size(), 1u);
    EXPECT_FALSE(fed.requests[0].keep_alive);
    EXPECT_EQ(fed.requests[0].http_minor, 0);

    RequestParser kept;
    fed = kept.Feed("GET /chain HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + GET_CHAIN);
    ASSERT_EQ(fed.requests.size(), 2u);
    EXPECT_TRUE(fed.requests[0].keep_alive);
    EXPECT_FALSE(kept.Finished());
}

TEST(RequestParser, HeaderValuesAreTrimmedAndEmptyValuesKept) {
    RequestParser parser;
    HttpFeedResult fed =
        parser.Feed("GET / HTTP/1.1\r\nX-A:   spaced  \r\nX-Empty:\r\nX-B: b\r\n\r\n");
    ASSERT_EQ(fed.requests.size(), 1u);
    const HttpRequest& req = fed.requests[0];
    ASSERT_EQ(req.headers.size(), 3u);
    EXPECT_EQ(*req.Header("x-a"), "spaced");
    EXPECT_EQ(*req.Header("x-empty"), "");
    EXPECT_EQ(*req.Header("x-b"), "b");
}

TEST(RequestParser, ReportsExpectContinueOnceWhileTheBodyIsMissing) {
    const std::string head =
        "POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n";
    RequestParser parser;
    HttpFeedResult fed = parser.Feed(head);
    EXPECT_TRUE(fed.expect_continue);
    EXPECT_TRUE(fed.requests.empty());
    fed = parser.Feed("ab");
    EXPECT_FALSE(fed.expect_continue);
    fed = parser.Feed("cde");
    EXPECT_FALSE(fed.expect_continue);
    ASSERT_EQ(fed.requests.size(), 1u);
    EXPECT_EQ(fed.requests[0].body, "abcde");

    RequestParser whole;
    fed = whole.Feed(head + "abcde");
    EXPECT_FALSE(fed.expect_continue);
    EXPECT_EQ(fed.requests.size(), 1u);

    RequestParser too_big;
    fed = too_big.Feed(
        "POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 100000000000\r\n\r\n");
    EXPECT_FALSE(fed.expect_continue);
    ASSERT_TRUE(fed.error);
    EXPECT_EQ(fed.error->status, 413);
}

TEST(RequestParser, UpgradeRequestIsServedAsPlainHttpThenFinishes) {
    RequestParser parser;
    HttpFeedResult fed = parser.Feed(
        "GET /chain HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n" + GET_CHAIN);
    ASSERT_FALSE(fed.error);
    ASSERT_EQ(fed.requests.size(), 1u);
    EXPECT_EQ(fed.requests[0].path, "/chain");
    EXPECT_FALSE(fed.requests[0].keep_alive);
    EXPECT_TRUE(parser.Finished());
}

}  // namespace
}  // namespace gossipchain
