# What each secondary index of the SQLite store costs per ingested record (decision 0072): the store's audit_event
# table and indexes as of schema 6, statement records as pgbench -S -M prepared makes them (8 sessions, a request
# and a completion per statement), 120,000 records in transactions of 4,096 and INSERTs of 512 rows, alternately
# with every index, without each one, and with none. Python's sqlite3, so absolute figures include its binding;
# the differences are the indexes'. Usage: python3 bench/prototypes/0072-index-cost.py [rounds]
import sqlite3, time, os, sys, uuid, random
COLS = "time,kind,session_id,statement_id,client_address,upstream,issuer,subject,protocol,statement,parameters,prepared_name,portal,outcome,sqlstate,command_tag,row_count,duration_us,detail,replica,chain_seq,prev_hash,hash,text_id"
IDX = {
 'chain': "CREATE UNIQUE INDEX audit_event_chain ON audit_event (replica, chain_seq)",
 'session': "CREATE INDEX audit_event_session ON audit_event (session_id, seq)",
 'time': "CREATE INDEX audit_event_time ON audit_event (time)",
 'statement': "CREATE INDEX audit_event_statement ON audit_event (session_id, statement_id)",
 'text': "CREATE INDEX audit_event_text ON audit_event (text_id) WHERE text_id IS NOT NULL",
}
def run(drop, n=120000, batch=4096, sessions=8):
    path = '/tmp/0072-index-cost.db'
    for s in ('', '-wal', '-shm'):
        try: os.remove(path + s)
        except FileNotFoundError: pass
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL"); c.execute("PRAGMA synchronous=FULL"); c.execute("PRAGMA cache_size=-32768")
    c.execute("CREATE TABLE audit_event (seq INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, kind TEXT NOT NULL, session_id TEXT, statement_id INTEGER, client_address TEXT, upstream TEXT, issuer TEXT, subject TEXT, protocol TEXT, statement TEXT, parameters TEXT, prepared_name TEXT, portal TEXT, outcome TEXT, sqlstate TEXT, command_tag TEXT, row_count INTEGER, duration_us INTEGER, detail TEXT, replica TEXT, chain_seq INTEGER, prev_hash TEXT, hash TEXT, response BLOB, response_digest TEXT, response_bytes INTEGER, response_truncated INTEGER, text_id INTEGER)")
    for k, v in IDX.items():
        if k not in drop: c.execute(v)
    sids = [str(uuid.uuid4()) for _ in range(sessions)]
    stmt = [0]*sessions
    rows = []
    t0 = 1733570000.0
    for i in range(n):
        s = i % sessions
        kind = 'statement_requested' if (i // sessions) % 2 == 0 else 'statement_completed'
        if kind == 'statement_requested': stmt[s] += 1
        tm = time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(t0 + i/5000)) + '.%06dZ' % int((i % 5000) * 200)
        h = os.urandom(32).hex()
        rows.append((tm, kind, sids[s], stmt[s], '127.0.0.1:5000', 'db', 'https://x', 'agent', 'extended',
                     'SELECT abalance FROM pgbench_accounts WHERE aid = $1' if kind == 'statement_requested' else None,
                     '["1234"]' if kind == 'statement_requested' else None, '', '', None if kind == 'statement_requested' else 'ok', None,
                     None if kind == 'statement_requested' else 'SELECT 1', None if kind == 'statement_requested' else 1, 120, None, 'r1', i + 1, h, h, 1 if kind == 'statement_requested' else None))
    per = 512
    sql = "INSERT INTO audit_event (" + COLS + ") VALUES " + ",".join(["(" + ",".join(["?"]*24) + ")"]*per)
    cpu0 = time.process_time()
    for b in range(0, n, batch):
        c.execute("BEGIN IMMEDIATE")
        chunk = rows[b:b+batch]
        for j in range(0, len(chunk), per):
            part = chunk[j:j+per]
            if len(part) == per:
                c.execute(sql, [v for r in part for v in r])
            else:
                c.executemany("INSERT INTO audit_event (" + COLS + ") VALUES (" + ",".join(["?"]*24) + ")", part)
        c.execute("COMMIT")
    cpu = time.process_time() - cpu0
    size = os.path.getsize(path) + os.path.getsize(path + '-wal')
    c.close()
    return cpu * 1e6 / n, size / n
configs = [[], ['time'], ['session'], ['statement'], ['text'], ['chain'], list(IDX)]
for rnd in range(int(sys.argv[1]) if len(sys.argv) > 1 else 2):
    for d in configs:
        us, b = run(d)
        print(f"drop {','.join(d) or '-':40s} {us:6.2f} us/record  {b:6.0f} bytes/record", flush=True)
