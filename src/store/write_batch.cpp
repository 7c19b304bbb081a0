#include "store/write_batch.h"

#include "store/statement.h"

#include <sqlite3.h>

#include <iterator>
#include <utility>

namespace gossipchain {

std::int64_t StoredOriginCode(TxOrigin origin) {
    switch (origin) {
        case TxOrigin::Local:
            return 0;
        case TxOrigin::Reorg:
            return 1;
        case TxOrigin::Relay:
            return 2;
    }
    return 0;
}

std::optional<TxOrigin> StoredOrigin(std::int64_t code) {
    for (TxOrigin origin : {TxOrigin::Local, TxOrigin::Reorg, TxOrigin::Relay}) {
        if (StoredOriginCode(origin) == code)
            return origin;
    }
    return std::nullopt;
}

void WriteBatch::PutBlock(std::uint64_t seq, std::string hash, std::string parent,
                          std::uint64_t height, std::string json) {
    m_writes.push_back({BlockRow{std::move(hash), std::move(parent), std::move(json),
                                 static_cast<std::int64_t>(height), static_cast<std::int64_t>(seq)},
                        Retry::Keep});
}

void WriteBatch::ConnectMain(std::uint64_t height, std::string hash) {
    m_writes.push_back(
        {MainConnect{static_cast<std::int64_t>(height), std::move(hash)}, Retry::Keep});
}

void WriteBatch::DisconnectMain(std::uint64_t height) {
    m_writes.push_back({MainDisconnect{static_cast<std::int64_t>(height)}, Retry::Keep});
}

void WriteBatch::PutTransaction(std::string txid, std::string json, TxOrigin origin, Retry retry) {
    m_writes.push_back(
        {TransactionRow{std::move(txid), std::move(json), StoredOriginCode(origin)}, retry});
}

void WriteBatch::DropTransaction(std::string txid, Retry retry) {
    m_writes.push_back({TransactionDrop{std::move(txid)}, retry});
}

void WriteBatch::ClearPeers() {
    m_writes.push_back({PeersClear{}, Retry::Drop});
}

void WriteBatch::PutPeer(std::string address, std::int64_t last_seen_s, StoredPeerOrigin origin) {
    m_writes.push_back(
        {PeerRow{std::move(address), last_seen_s, static_cast<std::int64_t>(origin)}, Retry::Drop});
}

void WriteBatch::PutBan(std::string key, std::int64_t until_ms) {
    m_writes.push_back({BanRow{std::move(key), until_ms}, Retry::Keep});
}

void WriteBatch::DropBan(std::string key) {
    m_writes.push_back({BanDrop{std::move(key)}, Retry::Keep});
}

void WriteBatch::Append(WriteBatch&& later) {
    if (m_writes.empty()) {
        m_writes = std::move(later.m_writes);
    } else {
        m_writes.insert(m_writes.end(), std::make_move_iterator(later.m_writes.begin()),
                        std::make_move_iterator(later.m_writes.end()));
    }
    later.m_writes.clear();
}

void WriteBatch::MoveKeptTo(WriteBatch& kept) {
    for (Write& write : m_writes) {
        if (write.retry == Retry::Keep)
            kept.m_writes.push_back(std::move(write));
    }
    m_writes.clear();
}

struct BatchWriter::Statements {
    explicit Statements(sqlite3* db)
        // A block written again (a retried commit) is left as it is; a different block under a
        // seq already taken is an error, never silently dropped.
        : put_block(db,
                    "INSERT INTO blocks(hash, parent, height, json, seq) VALUES(?1,?2,?3,?4,?5) "
                    "ON CONFLICT(hash) DO NOTHING"),
          put_main(db, "INSERT OR REPLACE INTO main_chain(height, hash) VALUES(?1,?2)"),
          drop_main(db, "DELETE FROM main_chain WHERE height = ?1"),
          put_tx(db,
                 "INSERT INTO mempool(txid, json, origin) VALUES(?1,?2,?3) ON CONFLICT(txid) "
                 "DO UPDATE SET origin = min(origin, excluded.origin)"),
          drop_tx(db, "DELETE FROM mempool WHERE txid = ?1"),
          clear_peers(db, "DELETE FROM peers"),
          put_peer(db,
                   "INSERT INTO peers(address, last_seen, origin) VALUES(?1,?2,?3) "
                   "ON CONFLICT(address) DO UPDATE SET last_seen = max(last_seen, "
                   "excluded.last_seen), origin = min(origin, excluded.origin)"),
          put_ban(db,
                  "INSERT INTO bans(key, until_ms) VALUES(?1,?2) ON CONFLICT(key) "
                  "DO UPDATE SET until_ms = max(until_ms, excluded.until_ms)"),
          drop_ban(db, "DELETE FROM bans WHERE key = ?1") {}

    bool Valid() const {
        return put_block.Valid() && put_main.Valid() && drop_main.Valid() && put_tx.Valid() &&
               drop_tx.Valid() && clear_peers.Valid() && put_peer.Valid() && put_ban.Valid() &&
               drop_ban.Valid();
    }

    Statement put_block;
    Statement put_main;
    Statement drop_main;
    Statement put_tx;
    Statement drop_tx;
    Statement clear_peers;
    Statement put_peer;
    Statement put_ban;
    Statement drop_ban;
};

BatchWriter::BatchWriter(sqlite3* db) : m_db(db), m_statements(std::make_unique<Statements>(db)) {}

BatchWriter::~BatchWriter() = default;

bool BatchWriter::Valid() const {
    return m_statements->Valid();
}

Status BatchWriter::Apply(const WriteBatch& batch) {
    for (const WriteBatch::Write& write : batch.m_writes) {
        if (Status applied = Apply(write.row); !applied.Ok())
            return applied;
    }
    return {};
}

Status BatchWriter::Apply(const WriteBatch::Row& row) {
    Statements& s = *m_statements;
    struct Visitor {
        Statements& s;
        int operator()(const WriteBatch::BlockRow& r) {
            return s.put_block.Bind(1, r.hash)
                .Bind(2, r.parent)
                .Bind(3, r.height)
                .Bind(4, r.json)
                .Bind(5, r.seq)
                .Run();
        }
        int operator()(const WriteBatch::MainConnect& r) {
            return s.put_main.Bind(1, r.height).Bind(2, r.hash).Run();
        }
        int operator()(const WriteBatch::MainDisconnect& r) {
            return s.drop_main.Bind(1, r.height).Run();
        }
        int operator()(const WriteBatch::TransactionRow& r) {
            return s.put_tx.Bind(1, r.txid).Bind(2, r.json).Bind(3, r.origin).Run();
        }
        int operator()(const WriteBatch::TransactionDrop& r) {
            return s.drop_tx.Bind(1, r.txid).Run();
        }
        int operator()(const WriteBatch::PeersClear&) { return s.clear_peers.Run(); }
        int operator()(const WriteBatch::PeerRow& r) {
            return s.put_peer.Bind(1, r.address).Bind(2, r.last_seen_s).Bind(3, r.origin).Run();
        }
        int operator()(const WriteBatch::BanRow& r) {
            return s.put_ban.Bind(1, r.key).Bind(2, r.until_ms).Run();
        }
        int operator()(const WriteBatch::BanDrop& r) { return s.drop_ban.Bind(1, r.key).Run(); }
    };
    int rc = std::visit(Visitor{s}, row);
    return rc == SQLITE_OK ? Status() : Status::Error(sqlite3_errmsg(m_db));
}

}  // namespace gossipchain
