// The signed rules across real processes (SPEC §6.7): one nonce spent twice at two nodes at once
// lands once and both nodes agree on every balance; a reorg undoes a transfer and drops it when
// it no longer applies; `gossipchain wallet` signs and sends with the exit codes it promises.
#include "consensus/signed_tx.h"
#include "integration/support/node_harness.h"
#include "node/wallet_file.h"
#include "util/hex.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <thread>

namespace gossipchain::test {
namespace {

NodeConfig SignedConfig() {
    return NodeConfig().Pow("header").Arg("--rules", "signed");
}

/** The key of the node's reward account, from its data directory (mode 0600, SPEC §6.7). */
NodeKey RewardKey(const GossipNode& node) {
    Result<NodeKey> key = ReadWalletFile(node.DataDir() + "/" + REWARD_WALLET_FILE_NAME);
    EXPECT_TRUE(key.Ok()) << key.Message();
    return key.Ok() ? key.Value() : NodeKey::Generate();
}

Json AccountOn(const GossipNode& node, const std::string& address) {
    return node.GetJson("/accounts/" + address);
}

/** POSTs a transfer; its status and body. */
std::pair<int, Json> Send(const GossipNode& node, const Transaction& tx) {
    Json body{{"sender", tx.sender},
              {"recipient", tx.recipient},
              {"amount", tx.amount},
              {"nonce", *tx.nonce},
              {"signature", tx.signature}};
    HttpClientResponse reply = node.Post("/transactions/new", body);
    return {reply.status, JsonOf(reply)};
}

std::size_t CountTx(const Json& chain, const std::string& signature) {
    std::size_t count = 0;
    for (const Json& block : chain) {
        for (const Json& tx : block["transactions"])
            count += tx.value("signature", std::string()) == signature;
    }
    return count;
}

bool SameAccounts(const GossipNode& a, const GossipNode& b,
                  const std::vector<std::string>& addresses) {
    for (const std::string& address : addresses) {
        Json on_a = AccountOn(a, address);
        Json on_b = AccountOn(b, address);
        if (on_a.is_discarded() || on_a != on_b)
            return false;
    }
    return true;
}

TEST(Signed, AnUnsignedTransactionIsRefusedWithWhatItLacks) {
    TempDir root;
    GossipNode node(root, "node", SignedConfig());
    ASSERT_EQ(node.Start(), "");
    Json status = node.Status();
    EXPECT_EQ(status.value("rules", ""), "signed");
    EXPECT_EQ(status.value("pow", ""), "header");
    HttpClientResponse reply = node.Post(
        "/transactions/new", Json{{"sender", "alice"}, {"recipient", "bob"}, {"amount", 5}});
    EXPECT_EQ(reply.status, 400);
    EXPECT_NE(reply.body.find("\\\"nonce\\\" and \\\"signature\\\""), std::string::npos)
        << reply.body;
    // A signed transfer with a field the shape does not have is refused, naming the field.
    Transaction tx =
        SignTransfer(NodeKey::Generate(), std::string(64, 'b'), 1, 0, status.value("network", ""));
    Json extra{{"sender", tx.sender}, {"recipient", tx.recipient}, {"amount", tx.amount},
               {"nonce", *tx.nonce},  {"signature", tx.signature}, {"memo", "hi"}};
    HttpClientResponse unknown = node.Post("/transactions/new", extra);
    EXPECT_EQ(unknown.status, 400);
    EXPECT_NE(unknown.body.find("unexpected key \\\"memo\\\""), std::string::npos) << unknown.body;
    HttpClientResponse open = node.Get("/accounts/" + std::string(64, 'a'));
    EXPECT_EQ(open.status, 200) << open.body;
}

TEST(Signed, ADataDirectoryRefusesOtherRules) {
    TempDir root;
    GossipNode node(root, "node", SignedConfig());
    ASSERT_EQ(node.Start(), "");
    node.Kill();
    // The same data directory (through a link, which a data directory may be) with a log of its
    // own, started under the open rules.
    TempDir other;
    std::filesystem::create_directory_symlink(node.DataDir(), other.Path() + "/node");
    GossipNode open(other, "node", NodeConfig().Pow("header"));
    std::string error = open.Start();
    EXPECT_NE(error, "");
    EXPECT_NE(open.Log().find("--rules"), std::string::npos) << open.Log();
}

TEST(Signed, ADoubleSpendAtTwoNodesLandsOnceAndBothAgree) {
    TempDir root;
    GossipNode a(root, "a", SignedConfig());
    ASSERT_EQ(a.Start(), "");
    GossipNode b(root, "b", SignedConfig().Peer(a.Port()));
    ASSERT_EQ(b.Start(), "");
    ASSERT_TRUE(WaitUntil([&] { return a.ReadyPeers() == 1 && b.ReadyPeers() == 1; }));
    ASSERT_EQ(a.Mine(), 2u);
    ASSERT_TRUE(WaitUntil([&] { return b.Height() == 2; }));
    const NodeKey payer = RewardKey(a);
    const std::string network = a.Status().value("network", "");
    const std::string x = AddressOf(NodeKey::Generate().PublicKey());
    const std::string y = AddressOf(NodeKey::Generate().PublicKey());
    const Transaction to_x = SignTransfer(payer, x, 1, 0, network);
    const Transaction to_y = SignTransfer(payer, y, 1, 0, network);

    // The same nonce to two recipients, at two nodes at once; each node takes the one it got.
    std::pair<int, Json> at_a;
    std::pair<int, Json> at_b;
    {
        std::thread first([&] { at_a = Send(a, to_x); });
        std::thread second([&] { at_b = Send(b, to_y); });
        first.join();
        second.join();
    }
    // Whichever arrived second at a node (sent by its client or relayed) is a stale nonce there.
    EXPECT_TRUE(at_a.first == 201 || at_b.first == 201) << at_a.second << at_b.second;
    // Both mine at once: each block may hold its own node's transfer.
    {
        std::thread first([&] { a.Mine(); });
        std::thread second([&] { b.Mine(); });
        first.join();
        second.join();
    }
    ASSERT_TRUE(a.Mine().has_value());
    ASSERT_TRUE(WaitUntil([&] { return a.Tip() == b.Tip(); }))
        << "a " << a.Height() << " b " << b.Height();
    Json chain = a.Chain();
    EXPECT_EQ(CountTx(chain, to_x.signature) + CountTx(chain, to_y.signature), 1u);
    EXPECT_EQ(chain, b.Chain());
    const std::vector<std::string> accounts{x, y, AddressOf(payer.PublicKey()),
                                            b.Status().value("reward_recipient", "")};
    ASSERT_TRUE(WaitUntil([&] { return SameAccounts(a, b, accounts); }));
    EXPECT_EQ(AccountOn(a, x).value("balance", -1) + AccountOn(a, y).value("balance", -1), 1);
    EXPECT_EQ(AccountOn(a, AddressOf(payer.PublicKey())).value("nonce", -1), 1);
    // The loser left both mempools: no block could ever take it.
    EXPECT_TRUE(WaitUntil([&] { return a.Pending().empty() && b.Pending().empty(); }))
        << a.Pending() << b.Pending();
    // Neither node banned the other for relaying the transfer it refused.
    EXPECT_EQ(a.ReadyPeers(), 1u);
    EXPECT_EQ(b.ReadyPeers(), 1u);
}

TEST(Signed, AReorgUndoesATransferThatNoLongerApplies) {
    TempDir root;
    GossipNode a(root, "a", SignedConfig());
    GossipNode b(root, "b", SignedConfig());
    ASSERT_EQ(a.Start(), "");
    ASSERT_EQ(b.Start(), "");
    ASSERT_EQ(a.Mine(), 2u);
    const NodeKey payer = RewardKey(a);
    const std::string payer_address = AddressOf(payer.PublicKey());
    const std::string x = AddressOf(NodeKey::Generate().PublicKey());
    Transaction to_x = SignTransfer(payer, x, 1, 0, a.Status().value("network", ""));
    ASSERT_EQ(Send(a, to_x).first, 201);
    ASSERT_EQ(a.Mine(), 3u);
    EXPECT_EQ(AccountOn(a, x).value("balance", -1), 1);
    for (std::uint64_t height = 2; height <= 4; ++height)
        ASSERT_EQ(b.Mine(), height);

    HttpClientResponse registered = a.Post("/nodes/register", Json{{"nodes", {b.Url()}}});
    ASSERT_EQ(registered.status, 201) << registered.body;
    ASSERT_TRUE(WaitUntil([&] { return a.Tip() == b.Tip(); }));
    // On b's chain a never mined: the payer has nothing, the transfer is undone and, since it
    // cannot apply there, it is not pending either.
    EXPECT_EQ(AccountOn(a, x).value("balance", -1), 0);
    EXPECT_EQ(AccountOn(a, payer_address).value("balance", -1), 0);
    EXPECT_EQ(AccountOn(a, payer_address).value("nonce", -1), 0);
    EXPECT_TRUE(a.Pending().empty()) << a.Pending();
    EXPECT_TRUE(SameAccounts(a, b, {x, payer_address, b.Status().value("reward_recipient", "")}));
    EXPECT_EQ(CountTx(a.Chain(), to_x.signature), 0u);
}

TEST(Signed, AcknowledgedTransfersAndBalancesSurviveKillNine) {
    TempDir root;
    GossipNode node(root, "node", SignedConfig());
    ASSERT_EQ(node.Start(), "");
    ASSERT_EQ(node.Mine(), 2u);
    ASSERT_EQ(node.Mine(), 3u);
    const NodeKey payer = RewardKey(node);
    const std::string payee = AddressOf(NodeKey::Generate().PublicKey());
    const std::string network = node.Status().value("network", "");
    ASSERT_EQ(Send(node, SignTransfer(payer, payee, 1, 0, network)).first, 201);
    ASSERT_EQ(Send(node, SignTransfer(payer, payee, 1, 1, network)).first, 201);
    const Json before = AccountOn(node, AddressOf(payer.PublicKey()));
    EXPECT_EQ(before.value("next_nonce", -1), 2) << before;
    node.Kill();
    ASSERT_EQ(node.Restart(), "");
    EXPECT_EQ(node.Pending().size(), 2u);
    EXPECT_EQ(AccountOn(node, AddressOf(payer.PublicKey())), before);
    // The same reward account after the restart: its key stayed in the data directory.
    EXPECT_EQ(RewardKey(node).PublicKey(), payer.PublicKey());
    ASSERT_EQ(node.Mine(), 4u);
    EXPECT_EQ(AccountOn(node, payee).value("balance", -1), 2);
}

TEST(Signed, TransfersAReorgReturnedComeBackInNonceOrderAfterKillNine) {
    // Both nodes reward one account, so it can pay on either chain.
    TempDir root;
    const NodeKey payer = NodeKey::Generate();
    const std::string payer_address = AddressOf(payer.PublicKey());
    GossipNode a(root, "a", SignedConfig().Arg("--reward-address", payer_address));
    GossipNode b(root, "b", SignedConfig().Arg("--reward-address", payer_address));
    ASSERT_EQ(a.Start(), "");
    ASSERT_EQ(b.Start(), "");
    const std::string network = a.Status().value("network", "");
    const std::string payee = AddressOf(NodeKey::Generate().PublicKey());
    ASSERT_EQ(a.Mine(), 2u);
    ASSERT_EQ(a.Mine(), 3u);
    ASSERT_EQ(Send(a, SignTransfer(payer, payee, 1, 0, network)).first, 201);
    ASSERT_EQ(a.Mine(), 4u);
    ASSERT_EQ(Send(a, SignTransfer(payer, payee, 1, 1, network)).first, 201);
    for (std::uint64_t height = 2; height <= 5; ++height)
        ASSERT_EQ(b.Mine(), height);
    ASSERT_EQ(a.Post("/nodes/register", Json{{"nodes", {b.Url()}}}).status, 201);
    ASSERT_TRUE(WaitUntil([&] { return a.Tip() == b.Tip(); }));
    // Nonce 0 came back from a's abandoned block after nonce 1 was stored as pending; a start
    // replays the reorg from the stored blocks before it reads the stored mempool, so nonce 0 is
    // pending again before nonce 1 asks to be.
    ASSERT_EQ(a.Pending().size(), 2u) << a.Pending();
    b.Kill();
    a.Kill();
    ASSERT_EQ(a.Restart(), "");
    EXPECT_EQ(a.Pending().size(), 2u) << a.Pending();
    EXPECT_EQ(AccountOn(a, payer_address).value("next_nonce", -1), 2);
    ASSERT_EQ(a.Mine(), 6u);
    EXPECT_EQ(AccountOn(a, payee).value("balance", -1), 2);
}

/** Runs `gossipchain wallet args...`; its exit code and output. */
std::pair<int, std::string> Wallet(const TempDir& root, std::vector<std::string> args) {
    static int runs = 0;
    std::vector<std::string> argv{GOSSIPCHAIN_BINARY, "wallet"};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string log = root.Path() + "/wallet-" + std::to_string(runs++) + ".log";
    ChildProcess child(argv, log);
    std::optional<int> status = child.WaitExit(DEFAULT_NODE_HTTP_TIMEOUT);
    int code = status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
    return {code, child.ReadLog()};
}

std::string LastLine(const std::string& text) {
    std::string trimmed = text.substr(0, text.find_last_not_of('\n') + 1);
    return trimmed.substr(trimmed.rfind('\n') + 1);
}

TEST(Signed, TheWalletSignsAndSendsWithItsExitCodes) {
    TempDir root;
    GossipNode node(root, "node", SignedConfig());
    ASSERT_EQ(node.Start(), "");
    ASSERT_EQ(node.Mine(), 2u);
    const std::string wallet = root.Path() + "/alice.wallet";
    auto [made, made_out] = Wallet(root, {"new", "--wallet", wallet});
    ASSERT_EQ(made, 0) << made_out;
    const std::string alice = LastLine(made_out);
    ASSERT_TRUE(IsAccountAddress(alice)) << made_out;
    EXPECT_EQ(Wallet(root, {"new", "--wallet", wallet}).first, 1);
    EXPECT_EQ(LastLine(Wallet(root, {"address", "--wallet", wallet}).second), alice);

    const std::string reward = node.DataDir() + "/" + REWARD_WALLET_FILE_NAME;
    auto [sent, sent_out] = Wallet(
        root, {"send", "--wallet", reward, "--node", node.Url(), "--to", alice, "--amount", "1"});
    ASSERT_EQ(sent, 0) << sent_out;
    EXPECT_TRUE(IsLowerHex(LastLine(sent_out), 64)) << sent_out;
    auto [over, over_out] = Wallet(
        root, {"send", "--wallet", reward, "--node", node.Url(), "--to", alice, "--amount", "5"});
    EXPECT_EQ(over, 1);
    EXPECT_NE(over_out.find("overspend"), std::string::npos) << over_out;
    auto [signed_code, signed_out] = Wallet(root, {"sign", "--wallet", wallet, "--node", node.Url(),
                                                   "--to", alice, "--amount", "1", "--nonce", "4"});
    EXPECT_EQ(signed_code, 0) << signed_out;
    Json printed = Json::parse(LastLine(signed_out), nullptr, false);
    EXPECT_EQ(printed.value("nonce", -1), 4) << signed_out;
    EXPECT_EQ(Wallet(root, {"balance", "--node", "http://127.0.0.1:1", alice}).first, 3);
    EXPECT_EQ(Wallet(root, {"send", "--wallet", wallet}).first, 2);

    ASSERT_EQ(node.Mine(), 3u);
    auto [balance, balance_out] = Wallet(root, {"balance", "--node", node.Url(), alice});
    ASSERT_EQ(balance, 0) << balance_out;
    EXPECT_EQ(Json::parse(LastLine(balance_out)).value("balance", -1), 1) << balance_out;
}

}  // namespace
}  // namespace gossipchain::test
