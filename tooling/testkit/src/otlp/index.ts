export {
  type AttributeValue,
  type OtlpReceiver,
  type ReceivedSpan,
  startOtlpReceiver,
} from "./otlp-receiver.ts";
