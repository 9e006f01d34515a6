# What the schema 6 insert trigger of the per-record text index cost per ingested record (decision 0098): 0072's
# prototype (the store's audit_event table and five indexes, pgbench -S -M prepared records) with the FTS5 per-record
# index and its insert trigger added, 64 sessions (every record names its text, so the trigger's WHEN is false for
# all of them), 120,000 records in transactions of 8,192 and INSERTs of 1,024 rows, alternately with the trigger
# ("drop -") and without it ("drop trigger"). Python's sqlite3: absolute figures include its binding; the difference
# is the trigger's. Usage: python3 bench/prototypes/0098-insert-trigger-cost.py [rounds]
import os

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '0072-index-cost.py')) as f:
    src = f.read()
PATCHES = [
    ("""    for k, v in IDX.items():
        if k not in drop: c.execute(v)""", """    for k, v in IDX.items():
        if k not in drop: c.execute(v)
    if 'trigger' not in drop:
        c.execute("CREATE VIRTUAL TABLE audit_event_fts USING fts5(statement, content='audit_event', content_rowid='seq', tokenize='trigram', detail=none)")
        c.execute("CREATE TRIGGER audit_event_fts_record_insert AFTER INSERT ON audit_event WHEN new.seq > 0 AND new.text_id IS NULL AND new.statement IS NOT NULL BEGIN INSERT INTO audit_event_fts (rowid, statement) VALUES (new.seq, new.statement); END")"""),
    ("configs = [[], ['time'], ['session'], ['statement'], ['text'], ['chain'], list(IDX)]", "configs = [[], ['trigger']]"),
    ("def run(drop, n=120000, batch=4096, sessions=8)", "def run(drop, n=120000, batch=8192, sessions=64)"),
    ("per = 512", "per = 1024"),
    ("/tmp/0072-index-cost.db", "/tmp/0098-insert-trigger-cost.db"),
]
for old, new in PATCHES:
    assert old in src, old
    src = src.replace(old, new)
exec(compile(src, '0072-index-cost.py (patched for 0098)', 'exec'))
