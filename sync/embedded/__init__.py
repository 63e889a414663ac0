"""The embedded backend: CouchDB's document and revision model on SQLite.

One SQLite file per database (`<data_dir>/dbs/<name>.sqlite`) in WAL mode with
`synchronous=NORMAL`: a committed transaction survives the process being killed (WAL frames
are in the OS before COMMIT returns); only a power cut may lose the last few commits.

Each open database has one writer connection and a few readers (`handles.py`): writers
that arrive together are committed in one transaction (`group_commit.py`), so a batch of
100 documents, or 100 engineers' notes at once, costs one commit, not 100; readers see the
last commit and never wait for a writer. At most `max_open` databases are open at once.

Tables:

- `docs`: one row per document: its rev tree (compact JSON), winning rev, whether the
  winner is deleted, and its `seq` (the last change; a document appears once in `_changes`).
- `bodies`: the body of every leaf revision.
- `old_bodies`: bodies of revisions that stopped being leaves, readable (`GET ?rev=`,
  `open_revs`) until compaction drops them, as in CouchDB; a scheduled job compacts every
  database written since its last run (`EmbeddedStore.compact_written`), so storage stays
  bounded.
- `attachments`: attachment bytes by `md5-<base64>` digest, shared by every revision that
  carries the same content.
- `local_docs`: `_local/` documents (replication checkpoints), never in `_changes`.
- `meta`: `update_seq`, `revs_limit`, and `doc_count` / `doc_del_count`, kept up to date in
  the same transaction as every write so `GET /db` (which a replicating PouchDB asks once per
  batch) and `_all_docs`'s `total_rows` never count the documents table.

The package, by concern (dependencies point down this list, never up):

- `store.py`: `EmbeddedStore`, the databases of a data folder and their listeners.
- `database.py`: `EmbeddedDatabase`, composed of the parts below.
- `writes.py`, `reads.py`, `changes.py`, `attachments.py`, `local_docs.py`: one concern each.
- `core.py`: the connection and the row and body reads they all share.
- `docs.py`, `schema.py`, `nonblocking.py`: pure helpers, the schema, the non-blocking mode.
- `peers.py`: several server processes on one data folder (write counters, mailboxes).
"""

from ..nonblocking import WouldBlock
from .attachments import attachment_digest
from .database import EmbeddedDatabase
from .peers import peers_running
from .schema import DEFAULT_REVS_LIMIT, check_db_name
from .store import CompactionRun, EmbeddedStore

__all__ = [
    "DEFAULT_REVS_LIMIT",
    "CompactionRun",
    "EmbeddedDatabase",
    "EmbeddedStore",
    "WouldBlock",
    "attachment_digest",
    "check_db_name",
    "peers_running",
]
