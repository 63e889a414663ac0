// The slice of PouchDB's API this app uses (pouchdb-browser ships no types of its own).
declare module "pouchdb-browser" {
  export interface Doc {
    _id: string;
    _rev?: string;
    _deleted?: boolean;
    [key: string]: unknown;
  }
  export interface PutResult {
    ok: boolean;
    id: string;
    rev: string;
  }
  export interface AllDocsRow {
    id: string;
    key: string;
    value: { rev: string; deleted?: boolean };
    doc?: Doc;
    error?: string;
  }
  export interface AllDocsOptions {
    include_docs?: boolean;
    startkey?: string;
    endkey?: string;
    keys?: string[];
    limit?: number;
    descending?: boolean;
  }
  export interface EventSource {
    // Each event passes its own arguments; a handler states the ones it reads.
    on(event: string, handler: (...args: never[]) => void): this;
    cancel(): void;
  }
  export interface Replication extends EventSource, Promise<unknown> {}
  export interface ReplicateOptions {
    live?: boolean;
    retry?: boolean;
    selector?: Record<string, unknown>;
    doc_ids?: string[];
    batch_size?: number;
    heartbeat?: number | false;
    timeout?: number | false;
    back_off_function?: (delay: number) => number;
    /** Where checkpoints are written: both sides (default), one side, or nowhere. */
    checkpoint?: false | "source" | "target";
  }
  export interface SyncOptions extends ReplicateOptions {
    push?: ReplicateOptions;
    pull?: ReplicateOptions;
  }
  export type Changes = EventSource;
  export default class PouchDB {
    constructor(name: string, options?: Record<string, unknown>);
    name: string;
    adapter: string;
    get(id: string, options?: Record<string, unknown>): Promise<Doc>;
    put(doc: Doc): Promise<PutResult>;
    bulkDocs(docs: Doc[], options?: Record<string, unknown>): Promise<(PutResult | { error: string; id: string; reason?: string })[]>;
    allDocs(options?: AllDocsOptions): Promise<{ rows: AllDocsRow[]; total_rows: number }>;
    changes(options: Record<string, unknown>): Changes;
    info(): Promise<{ doc_count: number; update_seq: number | string; db_name: string }>;
    /** The name a replication gives this database (the server's uuid and the database's name). */
    id(): Promise<string>;
    revsDiff(diff: Record<string, string[]>): Promise<Record<string, { missing: string[] }>>;
    destroy(): Promise<unknown>;
    close(): Promise<unknown>;
    static replicate(source: PouchDB | string, target: PouchDB | string, options?: ReplicateOptions): Replication;
    static sync(a: PouchDB, b: PouchDB, options?: SyncOptions): Replication;
    static plugin(plugin: unknown): typeof PouchDB;
    static fetch: typeof fetch;
  }
}
