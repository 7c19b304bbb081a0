// Tests for EventLoop, Timer and SignalWatcher on a private loop.
#include "net/event_loop.h"

#include "net/signal_watcher.h"
#include "net/timer.h"

#include <gtest/gtest.h>

#include <csignal>
#include <thread>

namespace gossipchain::net {
namespace {

/** Upper bound for any single wait in these tests, in ms. */
constexpr uint64_t DEADLINE_MS = 5'000;

TEST(EventLoop, PostFromAnotherThreadRunsOnTheLoopThread) {
    EventLoop loop;
    const std::thread::id loop_thread = std::this_thread::get_id();
    std::thread::id ran_on;
    int runs = 0;
    std::thread poster([&] {
        loop.Post([&] {
            ran_on = std::this_thread::get_id();
            ++runs;
        });
    });
    EXPECT_TRUE(loop.RunUntil([&] { return runs == 1; }, DEADLINE_MS));
    poster.join();
    EXPECT_EQ(ran_on, loop_thread);
    EXPECT_EQ(runs, 1);
    EXPECT_EQ(loop.Close(), 0);
}

TEST(EventLoop, PostedFunctionsRunInOrderAndExceptionsDoNotEscape) {
    EventLoop loop;
    std::vector<int> order;
    loop.Post([&] { order.push_back(1); });
    loop.Post([] { throw std::runtime_error("boom"); });
    loop.Post([&] { order.push_back(3); });
    EXPECT_TRUE(loop.RunUntil([&] { return order.size() == 2; }, DEADLINE_MS));
    EXPECT_EQ(order, (std::vector<int>{1, 3}));
    EXPECT_EQ(loop.Close(), 0);
}

TEST(EventLoop, RunUntilReturnsFalseAtTheDeadline) {
    EventLoop loop;
    const uint64_t start = loop.NowMs();
    EXPECT_FALSE(loop.RunUntil([] { return false; }, 30));
    EXPECT_GE(loop.NowMs() - start, 30u);
    EXPECT_EQ(loop.Close(), 0);
}

TEST(Timer, RepeatsUntilStopped) {
    EventLoop loop;
    int fired = 0;
    {
        Timer timer(loop);
        timer.Start(1, 1, [&] {
            if (++fired == 3)
                timer.Stop();
        });
        EXPECT_TRUE(loop.RunUntil([&] { return fired == 3; }, DEADLINE_MS));
        // Stopped: running on must not fire it again.
        loop.RunUntil([] { return false; }, 20);
        EXPECT_EQ(fired, 3);
    }
    EXPECT_EQ(loop.Close(), 0);
}

TEST(Timer, DestroyedTimerNeverFires) {
    EventLoop loop;
    int fired = 0;
    {
        Timer timer(loop);
        timer.Start(1, 0, [&] { ++fired; });
    }
    loop.RunUntil([] { return false; }, 20);
    EXPECT_EQ(fired, 0);
    EXPECT_EQ(loop.Close(), 0);
}

TEST(SignalWatcher, RunsCallbackOnTheLoop) {
    EventLoop loop;
    int signals = 0;
    {
        SignalWatcher watcher(loop, SIGUSR1, [&] { ++signals; });
        ASSERT_EQ(raise(SIGUSR1), 0);
        EXPECT_TRUE(loop.RunUntil([&] { return signals == 1; }, DEADLINE_MS));
    }
    EXPECT_EQ(signals, 1);
    EXPECT_EQ(loop.Close(), 0);
}

}  // namespace
}  // namespace gossipchain::net
