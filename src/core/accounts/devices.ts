/** Canonical device types of a session; the multi-login policy works per type. */
export type DeviceType = "web" | "android" | "ios" | "pc";

/** chat33 `FZM-DEVICE`: exactly Web / Android / iOS / PC, case-insensitive; anything else is null. */
export function chat33Device(header: string | undefined): DeviceType | null {
  switch ((header ?? "").trim().toLowerCase()) {
    case "web":
      return "web";
    case "android":
      return "android";
    case "ios":
      return "ios";
    case "pc":
      return "pc";
    default:
      return null;
  }
}

/** enterprise `platform` (free text in the original: pc, windows, mac, android, ios, web…). */
export function enterpriseDevice(platform: string | undefined): DeviceType {
  const p = (platform ?? "").trim().toLowerCase();
  if (p === "android") return "android";
  if (p === "ios" || p === "iphone" || p === "ipad") return "ios";
  if (p === "web" || p === "h5" || p === "browser") return "web";
  return "pc";
}
