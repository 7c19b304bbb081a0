#include "p2p/address_book.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gossipchain {
namespace {

PeerAddress At(int a, int b, std::uint16_t port = 5000) {
    return PeerAddress{"10." + std::to_string(a) + "." + std::to_string(b) + ".1", port};
}

using Result = AddressBook::AddResult;

TEST(AddressBook, GossipNeverCrowdsOutTheOperatorsAddresses) {
    AddressBook book({.max_operator = 4, .max_learned = 8, .max_per_source = 8});
    ASSERT_EQ(book.Add(At(0, 1), AddressOrigin::Seed), Result::Added);
    // A flood of learned addresses from five peers fills only the learned places.
    for (int source = 0; source < 5; ++source) {
        for (int i = 0; i < 900; ++i)
            book.Add(At(source + 1, i % 250, static_cast<std::uint16_t>(6000 + i)),
                     AddressOrigin::Learned, "peer" + std::to_string(source));
    }
    EXPECT_EQ(book.LearnedCount(), 8u);
    // The operator still has its places: registering works and is not a silent drop.
    for (int i = 2; i <= 5; ++i)
        EXPECT_EQ(book.Add(At(0, i), AddressOrigin::Registered), Result::Added);
    EXPECT_EQ(book.OperatorRoom(), 0u);
    EXPECT_EQ(book.Add(At(0, 6), AddressOrigin::Registered), Result::Full);
    EXPECT_EQ(book.Find(AddressBook::Key("10.0.6.1", 5000)), nullptr);
    EXPECT_NE(book.Find(AddressBook::Key("10.0.1.1", 5000)), nullptr);
    // A --peer always gets its place, even with every registered place taken; naming a
    // registered one with --peer frees its registered place.
    EXPECT_EQ(book.Add(At(0, 7), AddressOrigin::Seed), Result::Added);
    EXPECT_EQ(book.Add(At(0, 2), AddressOrigin::Seed), Result::Known);
    EXPECT_EQ(book.OperatorRoom(), 1u);
}

TEST(AddressBook, OneSourceFillsAtMostItsShare) {
    AddressBook book({.max_operator = 4, .max_learned = 100, .max_per_source = 10});
    for (int i = 0; i < 50; ++i)
        book.Add(At(1, i), AddressOrigin::Learned, "flooder");
    EXPECT_EQ(book.LearnedCount(), 10u);
    // Another source still gets in, and the flooder's churn does not evict it.
    ASSERT_EQ(book.Add(At(2, 1), AddressOrigin::Learned, "honest"), Result::Added);
    for (int i = 50; i < 100; ++i)
        book.Add(At(1, i), AddressOrigin::Learned, "flooder");
    EXPECT_NE(book.Find(AddressBook::Key("10.2.1.1", 5000)), nullptr);
    EXPECT_EQ(book.LearnedCount(), 11u);
}

TEST(AddressBook, AnAddressBeingDialledIsNeverEvicted) {
    AddressBook book({.max_operator = 4, .max_learned = 2, .max_per_source = 2});
    book.Add(At(1, 1), AddressOrigin::Learned, "a");
    book.Add(At(1, 2), AddressOrigin::Learned, "a");
    book.Find(AddressBook::Key("10.1.1.1", 5000))->dialing = true;
    book.Find(AddressBook::Key("10.1.2.1", 5000))->dialing = true;
    EXPECT_EQ(book.Add(At(1, 3), AddressOrigin::Learned, "a"), Result::Full);
    EXPECT_EQ(book.LearnedCount(), 2u);
}

TEST(AddressBook, TheOperatorsWordMakesALearnedAddressTheirs) {
    AddressBook book({.max_operator = 1, .max_learned = 4, .max_per_source = 4});
    ASSERT_EQ(book.Add(At(1, 1), AddressOrigin::Learned, "a"), Result::Added);
    EXPECT_EQ(book.Add(At(1, 1), AddressOrigin::Registered), Result::Known);
    EXPECT_EQ(book.Find(AddressBook::Key("10.1.1.1", 5000))->origin, AddressOrigin::Registered);
    EXPECT_EQ(book.LearnedCount(), 0u);
    EXPECT_EQ(book.OperatorRoom(), 0u);
    // Gossip repeating it changes nothing; --peer outranks /nodes/register.
    EXPECT_EQ(book.Add(At(1, 1), AddressOrigin::Learned, "b"), Result::Known);
    EXPECT_EQ(book.Add(At(1, 1), AddressOrigin::Seed), Result::Known);
    EXPECT_EQ(book.Find(AddressBook::Key("10.1.1.1", 5000))->origin, AddressOrigin::Seed);
}

TEST(AddressBook, DeadAddressesAgeOutButSeedsStay) {
    AddressBook book({.max_operator = 8,
                      .max_learned = 8,
                      .max_per_source = 8,
                      .learned_max_failures = 3,
                      .registered_dead_ms = 60'000});
    book.Add(At(1, 1), AddressOrigin::Learned, "a");
    book.Add(At(0, 1), AddressOrigin::Registered);
    book.Add(At(0, 2), AddressOrigin::Seed);
    book.Add(At(0, 3), AddressOrigin::Registered);
    book.Find(AddressBook::Key("10.0.3.1", 5000))->http_only = true;
    const std::string learned = AddressBook::Key("10.1.1.1", 5000);
    const std::string registered = AddressBook::Key("10.0.1.1", 5000);
    const std::string seed = AddressBook::Key("10.0.2.1", 5000);
    const std::string tutorial = AddressBook::Key("10.0.3.1", 5000);
    for (std::uint32_t failure = 1; failure <= 3; ++failure) {
        for (const std::string& key : {learned, registered, seed, tutorial}) {
            if (AddressEntry* entry = book.Find(key))
                entry->failures = failure;
        }
        EXPECT_EQ(book.OnDialFailed(learned, 1'000 * failure), failure == 3);
        EXPECT_FALSE(book.OnDialFailed(registered, 1'000 * failure));
        EXPECT_FALSE(book.OnDialFailed(seed, 1'000 * failure));
    }
    EXPECT_EQ(book.Find(learned), nullptr);
    // A registered address that fails for the whole dead time goes; one that answers meanwhile
    // starts over; a tutorial node (it answers in HTTP) and a seed never go.
    EXPECT_FALSE(book.OnDialFailed(registered, 40'000));
    book.OnAnswered(registered);
    EXPECT_FALSE(book.OnDialFailed(registered, 50'000));
    EXPECT_FALSE(book.OnDialFailed(registered, 100'000));
    EXPECT_TRUE(book.OnDialFailed(registered, 110'000));
    EXPECT_EQ(book.Find(registered), nullptr);
    EXPECT_FALSE(book.OnDialFailed(seed, 1'000'000));
    EXPECT_FALSE(book.OnDialFailed(tutorial, 1'000'000));
    EXPECT_EQ(book.Size(), 2u);
    EXPECT_EQ(book.OperatorRoom(), 7u);
}

TEST(AddressBook, BackoffDoublesPerFailureUpToItsCapAndStartsAgainAfterALink) {
    AddressBook book({.reconnect_min_ms = 100, .reconnect_max_ms = 1'000});
    book.Add(At(0, 1), AddressOrigin::Seed);
    AddressEntry& entry = *book.Find("10.0.1.1:5000");
    // No jitter (random 0) shows the base delays.
    std::vector<std::uint64_t> delays;
    for (int i = 0; i < 6; ++i) {
        book.ScheduleRetry(entry, false, 10'000, 0);
        delays.push_back(entry.next_try_ms - 10'000);
    }
    EXPECT_EQ(delays, (std::vector<std::uint64_t>{100, 200, 400, 800, 1'000, 1'000}));
    book.ScheduleRetry(entry, true, 10'000, 0);
    EXPECT_EQ(entry.failures, 0u);
    EXPECT_EQ(entry.next_try_ms, 10'100u);
    // Jitter adds at most half the delay.
    book.ScheduleRetry(entry, true, 10'000, ~0ull);
    EXPECT_LE(entry.next_try_ms, 10'150u);
}

TEST(AddressBook, DueForDialTakesEveryOperatorAddressButLearnedOnesOnlyUpToTheTarget) {
    AddressBook book({});
    book.Add(At(9, 1), AddressOrigin::Learned, "peer");
    book.Add(At(9, 2), AddressOrigin::Learned, "peer");
    book.Add(At(9, 3), AddressOrigin::Learned, "peer");
    book.Add(At(0, 1), AddressOrigin::Seed);
    book.Add(At(0, 2), AddressOrigin::Registered);
    book.Add(At(0, 3), AddressOrigin::Registered);
    book.Find("10.0.3.1:5000")->next_try_ms = 500;  // backing off
    auto none = [](const AddressEntry&) { return false; };
    std::vector<std::string> keys;
    for (AddressEntry* entry : book.DueForDial(100, 1, none))
        keys.push_back(entry->key);
    EXPECT_EQ(keys, (std::vector<std::string>{"10.9.1.1:5000", "10.0.1.1:5000", "10.0.2.1:5000"}));
    // Being dialled, skipped by the caller, or ourselves: not due.
    book.Find("10.9.1.1:5000")->dialing = true;
    book.Find("10.0.1.1:5000")->self = true;
    keys.clear();
    for (AddressEntry* entry : book.DueForDial(
             600, 2, [](const AddressEntry& entry) { return entry.key == "10.0.2.1:5000"; }))
        keys.push_back(entry->key);
    // One link is being dialled, so one more learned one fits the target of two.
    EXPECT_EQ(keys, (std::vector<std::string>{"10.9.2.1:5000", "10.0.3.1:5000"}));
}

}  // namespace
}  // namespace gossipchain
