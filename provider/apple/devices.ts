/**
 * Devices: `GET /v1/devices?filter[platform]=&filter[status]=`, `POST /v1/devices` (register).
 */
import { AppleApiError } from "../errors";
import type { AppleClient } from "./client";
import type { ApplePlatform, Device, DeviceClass, DeviceStatus, DocumentOne, ResourceObject } from "./types";

interface DeviceAttributes {
  name: string;
  udid: string;
  platform: ApplePlatform;
  status: DeviceStatus;
  deviceClass: DeviceClass;
  model: string | null;
  addedDate: string;
}

function toDevice(r: ResourceObject<DeviceAttributes>): Device {
  const a = (r.attributes ?? {}) as Partial<DeviceAttributes>;
  return {
    id: r.id,
    name: a.name ?? "",
    udid: a.udid ?? "",
    platform: a.platform as ApplePlatform,
    status: a.status as DeviceStatus,
    deviceClass: a.deviceClass,
    model: a.model,
    addedDate: a.addedDate,
  };
}

export interface DeviceFilter {
  platform?: ApplePlatform;
  status?: DeviceStatus;
  udid?: string | readonly string[];
  name?: string;
}

/** Lists the team's devices (every page). */
export async function listDevices(client: AppleClient, filter: DeviceFilter = {}): Promise<Device[]> {
  const { data } = await client.listAll<DeviceAttributes>("/v1/devices", {
    "filter[platform]": filter.platform,
    "filter[status]": filter.status,
    "filter[udid]": filter.udid,
    "filter[name]": filter.name,
  });
  return data.map(toDevice);
}

/** The device with this UDID (UDIDs compare case-insensitively, as fastlane's find_by_udid does). */
export async function findDeviceByUdid(client: AppleClient, udid: string): Promise<Device | undefined> {
  return (await listDevices(client, { udid })).find((d) => d.udid.toLowerCase() === udid.toLowerCase());
}

/** Registers a device; after an ambiguous failure, looks it up by UDID before sending again. */
export async function registerDevice(client: AppleClient, input: { name: string; udid: string; platform: ApplePlatform }): Promise<Device> {
  const result = await client.request<DocumentOne<DeviceAttributes> | Device>("POST", "/v1/devices", {
    body: { data: { type: "devices", attributes: { name: input.name, udid: input.udid, platform: input.platform } } },
    idempotent: false,
    recover: () => findDeviceByUdid(client, input.udid),
  });
  if (!result) throw new AppleApiError("App Store Connect answered device registration with no body.", 0, undefined, undefined, undefined);
  return "data" in result ? toDevice(result.data) : result;
}
