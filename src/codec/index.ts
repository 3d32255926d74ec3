// Public API of the codec layer.

export { ByteQueue, type ByteQueueOptions } from "./byte-queue.ts";
export { decodeAll, decodeEofAll, decodeFrames } from "./codec.ts";
export type { Codec, Decoder, Encoder } from "./codec.ts";
export { FrameReader } from "./frame-reader.ts";
export { CodecError, FrameTooLarge, MalformedFrame, UnexpectedEof } from "./errors.ts";
export type { CodecErrorCode } from "./errors.ts";
export { DEFAULT_MAX_FRAME } from "./limits.ts";
export { fixedLength, FixedLengthCodec } from "./fixed.ts";
export { delimited, DelimitedCodec } from "./delimited.ts";
export type { DelimitedOptions } from "./delimited.ts";
export {
  asciiLengthPrefixed,
  AsciiLengthPrefixedCodec,
  lengthPrefixed,
  LengthPrefixedCodec,
} from "./length-prefixed.ts";
export type { AsciiLengthPrefixedOptions, LengthPrefixedOptions, LengthWidth } from "./length-prefixed.ts";
export { typeByte, TypeByteCodec } from "./type-byte.ts";
export type { TypeByteOptions, TypedFrame } from "./type-byte.ts";
export { readToEof, ReadToEofCodec } from "./read-to-eof.ts";
export type { ReadToEofOptions } from "./read-to-eof.ts";
export { FRAMING_NAMES, FRAMING_SPECS, framingFactory, parseFraming } from "./framing-spec.ts";
export type { FramingOptions } from "./framing-spec.ts";
export { textLines, TextLinesCodec } from "./text-lines.ts";
export type { TextLinesOptions } from "./text-lines.ts";
