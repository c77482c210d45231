/** Re-exports of the generated protobuf types under short names. Generated code: ./generated. */
import protobuf from 'protobufjs/minimal.js';
import { licensegate } from './generated/agent.js';

// 64-bit fields (seq, server_time_ms) decode as plain numbers, not Long objects: sequence
// numbers and millisecond times stay far below 2^53.
protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long;
protobuf.configure();

const v1 = licensegate.agent.v1;
export const ClientFrame = v1.ClientFrame;
export const ServerFrame = v1.ServerFrame;
export const OsFamily = v1.OsFamily;
export const ProductType = v1.ProductType;
export const LicenseType = v1.LicenseType;

export type OsFamily = licensegate.agent.v1.OsFamily;
export type ProductType = licensegate.agent.v1.ProductType;
export type LicenseType = licensegate.agent.v1.LicenseType;
export type IClientFrame = licensegate.agent.v1.IClientFrame;
export type IServerFrame = licensegate.agent.v1.IServerFrame;
export type Hello = licensegate.agent.v1.Hello;
export type IWelcome = licensegate.agent.v1.IWelcome;
export type ICommand = licensegate.agent.v1.ICommand;
export type IError = licensegate.agent.v1.IError;

/** Numeric values each enum defines; anything else on the wire is UNKNOWN_ENUM_VALUE. */
export function isKnownEnumValue(enumObject: Record<string, string | number>, value: number): boolean {
  return typeof enumObject[value] === 'string';
}
