"""The embedded backend: CouchDB's document and revision model on SQLite.

One SQLite file per database (`<data_dir>/dbs/<name>.sqlite`) in WAL mode with
`synchronous=NORMAL`: a committed transaction survives the process being killed (WAL frames
are in the OS before COMMIT returns); only a power cut may lose the last few commits.

Each database has one connection guarded by a lock, because the HTTP layer calls us from
a thread pool and a single writer is what SQLite wants anyway. A `_bulk_docs` batch is one
transaction, so a batch of 100 documents costs one commit, not 100.

Tables:

- `docs`: one row per document: its rev tree (compact JSON), winning rev, whether the
  winner is deleted, and its `seq` (the last change; a document appears once in `_changes`).
- `bodies`: the body of every leaf revision. Bodies of revisions that stop being leaves
  are dropped at once, as CouchDB's compaction would, so storage stays proportional to the
  open branches rather than to the edit history.
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
"""
from .attachments import attachment_digest
from .database import EmbeddedDatabase
from .docs import parse_seq
from .nonblocking import WouldBlock
from .schema import DEFAULT_REVS_LIMIT, check_db_name
from .store import EmbeddedStore

__all__ = ["DEFAULT_REVS_LIMIT", "EmbeddedDatabase", "EmbeddedStore", "WouldBlock", "attachment_digest",
           "check_db_name", "parse_seq"]
