// Tests of the node's event log (--events, read by tools/netsim): one JSON object per line, each
// with "t_ns" and "ev" and the fields docs/netsim.md lists for its type; appending to an existing
// file; peer-supplied text escaped so that it cannot break a line; nothing written while closed;
// and the PeerManager observers that feed it.
#include "node/events.h"

#include "integration/support/process.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace gossipchain {
namespace {

using Json = nlohmann::json;

const std::string HASH(64, 'a');
const std::string OTHER_HASH(64, 'b');
const std::string NODE_ID(32, 'c');

std::uint64_t NowNs() {
    using namespace std::chrono;
    return static_cast<std::uint64_t>(
        duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count());
}

class EventLogTest : public ::testing::Test {
protected:
    std::string Path() const { return m_dir.Path() + "/events.ndjson"; }

    std::string Contents() const {
        std::ifstream in(Path());
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }

    /** Every line parsed; each must be one JSON object ending in a newline. */
    std::vector<Json> Lines() const {
        std::string text = Contents();
        EXPECT_TRUE(text.empty() || text.back() == '\n');
        std::vector<Json> lines;
        std::istringstream in(text);
        for (std::string line; std::getline(in, line);) {
            Json parsed = Json::parse(line, nullptr, false);
            EXPECT_TRUE(parsed.is_object()) << line;
            lines.push_back(parsed);
        }
        return lines;
    }

    /** The member names of `event` other than t_ns and ev. */
    static std::set<std::string> Fields(const Json& event) {
        std::set<std::string> names;
        for (const auto& [key, value] : event.items()) {
            if (key != "t_ns" && key != "ev")
                names.insert(key);
        }
        return names;
    }

    test::TempDir m_dir{"gossipchain-events"};
};

TEST_F(EventLogTest, OpenWritesAStartEvent) {
    EventLog log;
    EXPECT_FALSE(log.Enabled());
    std::uint64_t before = NowNs();
    ASSERT_TRUE(log.Open(Path(), NODE_ID, 5001).Ok());
    EXPECT_TRUE(log.Enabled());

    std::vector<Json> lines = Lines();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0]["ev"], "start");
    EXPECT_EQ(Fields(lines[0]), (std::set<std::string>{"node_id", "port", "pid"}));
    EXPECT_EQ(lines[0]["node_id"], NODE_ID);
    EXPECT_EQ(lines[0]["port"], 5001);
    EXPECT_EQ(lines[0]["pid"], static_cast<long long>(::getpid()));
    // CLOCK_REALTIME nanoseconds, the clock every process on the machine shares.
    ASSERT_TRUE(lines[0]["t_ns"].is_number_unsigned());
    EXPECT_GE(lines[0]["t_ns"].get<std::uint64_t>(), before);
    EXPECT_LE(lines[0]["t_ns"].get<std::uint64_t>(), NowNs());
}

TEST_F(EventLogTest, EachEventIsOneLineWithItsDocumentedFields) {
    EventLog log;
    ASSERT_TRUE(log.Open(Path(), NODE_ID, 5001).Ok());
    log.BlockSeen(HASH, 7, "127.0.0.1:5002");
    log.BlockMined(HASH, 7, 3);
    log.TxSeen(OTHER_HASH, "self");
    log.Reorg(2, HASH, OTHER_HASH);
    log.PeerLink("127.0.0.1:5002", true, {});
    log.PeerLink("127.0.0.1:5002", false, "ping timeout");
    P2pMetrics metrics;
    metrics.blocks_received = 4;
    metrics.blocks_relayed = 5;
    metrics.txs_received = 6;
    metrics.bytes_in_by_type["AnnounceBlock"] = 1000;
    metrics.bytes_out_by_type["Hello"] = 90;
    log.Traffic(metrics);

    std::vector<Json> lines = Lines();
    ASSERT_EQ(lines.size(), 8u);
    std::vector<std::string> types;
    for (const Json& line : lines)
        types.push_back(line["ev"]);
    EXPECT_EQ(types, (std::vector<std::string>{"start", "block_seen", "block_mined", "tx_seen",
                                               "reorg", "peer_up", "peer_down", "traffic"}));
    for (std::size_t i = 1; i < lines.size(); ++i)
        EXPECT_GE(lines[i]["t_ns"].get<std::uint64_t>(), lines[i - 1]["t_ns"].get<std::uint64_t>());

    EXPECT_EQ(Fields(lines[1]), (std::set<std::string>{"hash", "height", "from"}));
    EXPECT_EQ(lines[1]["hash"], HASH);
    EXPECT_EQ(lines[1]["height"], 7);
    EXPECT_EQ(lines[1]["from"], "127.0.0.1:5002");

    EXPECT_EQ(Fields(lines[2]), (std::set<std::string>{"hash", "height", "txs"}));
    EXPECT_EQ(lines[2]["txs"], 3);

    EXPECT_EQ(Fields(lines[3]), (std::set<std::string>{"txid", "from"}));
    EXPECT_EQ(lines[3]["txid"], OTHER_HASH);
    EXPECT_EQ(lines[3]["from"], "self");

    EXPECT_EQ(Fields(lines[4]), (std::set<std::string>{"depth", "old_tip", "new_tip"}));
    EXPECT_EQ(lines[4]["depth"], 2);
    EXPECT_EQ(lines[4]["old_tip"], HASH);
    EXPECT_EQ(lines[4]["new_tip"], OTHER_HASH);

    EXPECT_EQ(Fields(lines[5]), (std::set<std::string>{"peer"}));
    EXPECT_EQ(Fields(lines[6]), (std::set<std::string>{"peer", "reason"}));
    EXPECT_EQ(lines[6]["reason"], "ping timeout");

    EXPECT_EQ(Fields(lines[7]), (std::set<std::string>{"bytes_in", "bytes_out", "blocks_received",
                                                       "blocks_relayed", "txs_received"}));
    EXPECT_EQ(lines[7]["bytes_in"], (Json{{"AnnounceBlock", 1000}}));
    EXPECT_EQ(lines[7]["bytes_out"], (Json{{"Hello", 90}}));
    EXPECT_EQ(lines[7]["blocks_received"], 4);
    EXPECT_EQ(lines[7]["blocks_relayed"], 5);
    EXPECT_EQ(lines[7]["txs_received"], 6);
}

TEST_F(EventLogTest, PeerTextCannotBreakALine) {
    EventLog log;
    ASSERT_TRUE(log.Open(Path(), NODE_ID, 5001).Ok());
    // A reject reason and an address come from peers: quotes, newlines and bytes that are not
    // UTF-8 must stay inside one line of valid JSON.
    log.PeerLink("1.2.3.4:5\n{\"ev\":\"forged\"}", false, "bad \"reason\"\r\n\xff\xfe end");

    std::vector<Json> lines = Lines();
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[1]["ev"], "peer_down");
    EXPECT_EQ(lines[1]["peer"], "1.2.3.4:5\n{\"ev\":\"forged\"}");
    std::string reason = lines[1]["reason"];
    EXPECT_EQ(reason.rfind("bad \"reason\"\r\n", 0), 0u) << reason;
    EXPECT_NE(reason.find(" end"), std::string::npos) << reason;
}

TEST_F(EventLogTest, OpenAppendsToAnExistingLog) {
    {
        EventLog first;
        ASSERT_TRUE(first.Open(Path(), NODE_ID, 5001).Ok());
        first.BlockMined(HASH, 2, 1);
    }
    EventLog second;
    ASSERT_TRUE(second.Open(Path(), NODE_ID, 5001).Ok());
    std::vector<Json> lines = Lines();
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0]["ev"], "start");
    EXPECT_EQ(lines[1]["ev"], "block_mined");
    EXPECT_EQ(lines[2]["ev"], "start");
}

TEST_F(EventLogTest, OpenFailureNamesThePathAndLeavesTheLogOff) {
    EventLog log;
    Status opened = log.Open(m_dir.Path() + "/missing/dir/events.ndjson", NODE_ID, 5001);
    EXPECT_FALSE(opened.Ok());
    EXPECT_NE(opened.Message().find("missing/dir/events.ndjson"), std::string::npos)
        << opened.Message();
    EXPECT_FALSE(log.Enabled());
    log.BlockMined(HASH, 2, 1);  // a no-op, not a crash
}

TEST_F(EventLogTest, NothingIsWrittenWhileClosed) {
    EventLog log;
    log.BlockSeen(HASH, 2, "self");
    log.Traffic(P2pMetrics{});
    EXPECT_FALSE(std::ifstream(Path()).good());
}

}  // namespace
}  // namespace gossipchain
