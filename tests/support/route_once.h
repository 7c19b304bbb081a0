// Test helper: dispatches one request through a Router and returns the response its handler gave
// synchronously (every handler the HTTP tests route answers before Dispatch returns).
#pragma once

#include "http/router.h"

#include <gtest/gtest.h>

#include <optional>
#include <utility>

namespace gossipchain::test {

/** The one response `router` gives `request` during Dispatch; expects exactly one. */
inline std::optional<HttpResponse> RouteOnce(const Router& router, const HttpRequest& request) {
    std::optional<HttpResponse> answer;
    int calls = 0;
    router.Dispatch(request, [&](HttpResponse response) {
        ++calls;
        answer = std::move(response);
    });
    EXPECT_EQ(calls, 1);
    return answer;
}

}  // namespace gossipchain::test
