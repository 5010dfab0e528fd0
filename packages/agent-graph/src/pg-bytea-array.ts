import pg from "pg";

/** `bytea[]`, of any number of dimensions: how the Postgres checkpointer returns blobs and writes. */
export const BYTEA_ARRAY_OID = 1001;

const UNSUPPORTED = Symbol("unsupported");
export type ByteaArray = (Buffer | null | ByteaArray)[];

/**
 * Parses the text form of a `bytea[]` (`{"\\x0a0b",NULL,{...}}`, bytea_output=hex, the default
 * since Postgres 9.0) in one pass, slicing each element's hex straight into a Buffer. The library
 * parser walks the text a character at a time and builds each element as a string first; on a
 * long conversation's checkpoint that was about a third of a turn's CPU. Anything else (escape
 * output, explicit bounds) goes to the library parser unchanged.
 */
export function parseByteaArray(text: string): unknown {
  return scanByteaArray(text) ?? libraryParser(text);
}

/** pg-types lists builtin OIDs only; array OIDs are registered under their number all the same. */
type TypeId = Parameters<typeof pg.types.getTypeParser>[0];
const libraryParser = pg.types.getTypeParser(BYTEA_ARRAY_OID as TypeId, "text") as (text: string) => unknown;

/** The one-pass parse, or undefined for a form it does not take (the library parser's then). */
export function scanByteaArray(text: string): ByteaArray | undefined {
  let at = 0;
  const array = (): ByteaArray | typeof UNSUPPORTED => {
    // text[at] is "{".
    at++;
    const items: ByteaArray = [];
    if (text[at] === "}") {
      at++;
      return items;
    }
    for (;;) {
      const char = text[at];
      if (char === "{") {
        const inner = array();
        if (inner === UNSUPPORTED) return UNSUPPORTED;
        items.push(inner);
      } else if (char === '"') {
        // A hex element is quoted (its backslash needs it) and holds only hex digits after `\\x`.
        if (text[at + 1] !== "\\" || text[at + 2] !== "\\" || text[at + 3] !== "x") return UNSUPPORTED;
        const end = text.indexOf('"', at + 4);
        if (end < 0 || (end - at) % 2 !== 0) return UNSUPPORTED;
        items.push(Buffer.from(text.slice(at + 4, end), "hex"));
        at = end + 1;
      } else if (text.startsWith("NULL", at)) {
        items.push(null);
        at += 4;
      } else {
        return UNSUPPORTED;
      }
      if (text[at] === ",") {
        at++;
      } else if (text[at] === "}") {
        at++;
        return items;
      } else {
        return UNSUPPORTED;
      }
    }
  };
  if (text[0] !== "{") return undefined;
  const result = array();
  return result !== UNSUPPORTED && at === text.length ? result : undefined;
}

/** Type parsers for the checkpointer's pool: the fast `bytea[]` parser, the library's for the rest. */
export const checkpointTypeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: TypeId, format?: "text" | "binary") =>
    (oid as number) === BYTEA_ARRAY_OID && format !== "binary"
      ? parseByteaArray
      : pg.types.getTypeParser(oid, format ?? "text")) as pg.CustomTypesConfig["getTypeParser"],
};
