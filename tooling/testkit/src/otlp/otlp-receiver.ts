import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ExportTraceServiceRequest } from "./trace-proto.ts";

export type AttributeValue = string | number | boolean;

/** One exported span, decoded from either OTLP encoding into the same shape. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP's SpanKind number: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, AttributeValue>;
  events: { name: string; attributes: Record<string, AttributeValue> }[];
  /** OTLP's status code: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  scope: string;
  resource: Record<string, AttributeValue>;
}

export interface OtlpReceiver {
  /** The base URL, as `OTEL_EXPORTER_OTLP_ENDPOINT` (exporters post to `${url}/v1/traces`). */
  url: string;
  /** Every span received so far, in arrival order. */
  spans: ReceivedSpan[];
  /** Each export request's path, content type and headers. */
  requests: { path: string; contentType: string; headers: IncomingMessage["headers"] }[];
  close(): Promise<void>;
}

/**
 * A loopback OTLP/HTTP trace receiver (what a collector listens on at 4318): accepts
 * `application/x-protobuf` and `application/json` exports on `/v1/traces`, decodes them, and
 * answers as the specification says (200 with an empty response).
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const requests: OtlpReceiver["requests"] = [];
  const server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const contentType = request.headers["content-type"] ?? "";
    requests.push({ path: request.url ?? "", contentType, headers: request.headers });
    if (request.method !== "POST" || request.url !== "/v1/traces") {
      response.writeHead(404).end();
      return;
    }
    try {
      const document = contentType.includes("json")
        ? JSON.parse(body.toString("utf8"))
        : ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(body), PROTO_OPTIONS);
      spans.push(...spansOf(document));
    } catch {
      response.writeHead(400).end();
      return;
    }
    response.writeHead(200, {
      "content-type": contentType.includes("json") ? "application/json" : contentType,
    });
    response.end(contentType.includes("json") ? "{}" : undefined);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const PROTO_OPTIONS = { longs: Number, bytes: Buffer } as const;

// biome-ignore lint/suspicious/noExplicitAny: the decoded OTLP documents are walked structurally
type Json = any;

function attributesOf(list: Json[] | undefined): Record<string, AttributeValue> {
  const record: Record<string, AttributeValue> = {};
  for (const { key, value } of list ?? []) {
    // int64 is a string in JSON and a number from the protobuf decoder.
    const v = value ?? {};
    const found = v.stringValue ?? v.boolValue ?? v.doubleValue;
    const int = v.intValue;
    record[key] = found ?? (int === undefined || int === null ? "" : Number(int));
  }
  return record;
}

/** Both encodings give ids as hex here: JSON carries hex strings, protobuf raw bytes. */
const hex = (id: unknown) => (Buffer.isBuffer(id) ? id.toString("hex") : typeof id === "string" ? id : "");

/** Both encodings, once decoded with camelCase names (see trace-proto.ts), have one shape. */
function spansOf(request: Json): ReceivedSpan[] {
  return (request.resourceSpans ?? []).flatMap((resourceSpans: Json) =>
    (resourceSpans.scopeSpans ?? []).flatMap((scopeSpans: Json) =>
      (scopeSpans.spans ?? []).map((span: Json) => ({
        traceId: hex(span.traceId),
        spanId: hex(span.spanId),
        parentSpanId: hex(span.parentSpanId),
        name: span.name,
        kind: span.kind,
        attributes: attributesOf(span.attributes),
        events: (span.events ?? []).map((event: Json) => ({
          name: event.name,
          attributes: attributesOf(event.attributes),
        })),
        statusCode: span.status?.code ?? 0,
        scope: scopeSpans.scope?.name ?? "",
        resource: attributesOf(resourceSpans.resource?.attributes),
      })),
    ),
  );
}
