/** Where pull connectors keep their position so re-runs continue instead of starting over. */
export interface CursorStore {
  getCursor(connector: string, scope: string): Promise<string | undefined>;
  putCursor(connector: string, scope: string, cursor: string): Promise<void>;
}
