/**
 * The smallest unsigned APK apksigner signs and verifies (v1+v2+v3): a zip holding only a 120-byte binary
 * AndroidManifest.xml with one empty <manifest> element (no uses-sdk, so minSdk 1). Layout from the Android
 * resource format (frameworks/base ResourceTypes.h), checked with Debian's apksigner 31.
 */
import { crc32 } from "zlib";

const RES_XML_TYPE = 0x0003;
const RES_STRING_POOL_TYPE = 0x0001;
const RES_XML_START_ELEMENT_TYPE = 0x0102;
const RES_XML_END_ELEMENT_TYPE = 0x0103;
const NO_INDEX = 0xffffffff;

/** Binary XML for `<manifest/>`: file header, UTF-16 string pool ["manifest"], start and end element. */
export function minimalAndroidManifest(): Buffer {
  const name = "manifest";
  const stringData = Buffer.alloc(2 + name.length * 2 + 2); // u16 length, UTF-16LE chars, u16 NUL
  stringData.writeUInt16LE(name.length, 0);
  stringData.write(name, 2, "utf16le");

  const poolHeader = 28;
  const pool = Buffer.alloc(poolHeader + 4 + stringData.length);
  pool.writeUInt16LE(RES_STRING_POOL_TYPE, 0);
  pool.writeUInt16LE(poolHeader, 2);
  pool.writeUInt32LE(pool.length, 4);
  pool.writeUInt32LE(1, 8); // stringCount
  pool.writeUInt32LE(0, 12); // styleCount
  pool.writeUInt32LE(0, 16); // flags: UTF-16, unsorted
  pool.writeUInt32LE(poolHeader + 4, 20); // stringsStart
  pool.writeUInt32LE(0, 24); // stylesStart
  pool.writeUInt32LE(0, 28); // offset of string 0
  stringData.copy(pool, poolHeader + 4);

  const start = Buffer.alloc(36);
  start.writeUInt16LE(RES_XML_START_ELEMENT_TYPE, 0);
  start.writeUInt16LE(16, 2);
  start.writeUInt32LE(36, 4);
  start.writeUInt32LE(1, 8); // line number
  start.writeUInt32LE(NO_INDEX, 12); // comment
  start.writeUInt32LE(NO_INDEX, 16); // namespace
  start.writeUInt32LE(0, 20); // name = string 0
  start.writeUInt16LE(20, 24); // attributeStart
  start.writeUInt16LE(20, 26); // attributeSize
  start.writeUInt16LE(0, 28); // attributeCount
  // idIndex, classIndex, styleIndex stay 0

  const end = Buffer.alloc(24);
  end.writeUInt16LE(RES_XML_END_ELEMENT_TYPE, 0);
  end.writeUInt16LE(16, 2);
  end.writeUInt32LE(24, 4);
  end.writeUInt32LE(1, 8);
  end.writeUInt32LE(NO_INDEX, 12);
  end.writeUInt32LE(NO_INDEX, 16);
  end.writeUInt32LE(0, 20);

  const total = 8 + pool.length + start.length + end.length;
  const header = Buffer.alloc(8);
  header.writeUInt16LE(RES_XML_TYPE, 0);
  header.writeUInt16LE(8, 2);
  header.writeUInt32LE(total, 4);
  return Buffer.concat([header, pool, start, end]);
}

export interface ZipEntry {
  name: string;
  data: Buffer;
}

/** A zip with STORED (uncompressed) entries: local headers, data, central directory, end record. */
export function zipStored(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  const dosTime = 0; // 00:00:00
  const dosDate = ((2008 - 1980) << 9) | (1 << 5) | 1; // 2008-01-01, the fixed date AOSP tools use
  for (const entry of entries) {
    const name = Buffer.from(entry.name, "utf8");
    const crc = crc32(entry.data) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(10, 4); // version needed
    local.writeUInt16LE(0, 6); // flags
    local.writeUInt16LE(0, 8); // STORED
    local.writeUInt16LE(dosTime, 10);
    local.writeUInt16LE(dosDate, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(entry.data.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, entry.data);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4); // version made by
    central.writeUInt16LE(10, 6);
    central.writeUInt16LE(0, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt16LE(dosTime, 12);
    central.writeUInt16LE(dosDate, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(entry.data.length, 20);
    central.writeUInt32LE(entry.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    // extra, comment, disk, internal attrs, external attrs stay 0
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + entry.data.length;
  }
  const centralDir = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(centralDir.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, centralDir, eocd]);
}

/** An unsigned APK apksigner can sign: just the minimal manifest. */
export function minimalUnsignedApk(): Buffer {
  return zipStored([{ name: "AndroidManifest.xml", data: minimalAndroidManifest() }]);
}
