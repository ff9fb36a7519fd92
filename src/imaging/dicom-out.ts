/**
 * Shared by the SEG and SR writers: UIDs, dates, coded concepts, and Part 10 encoding with dcmjs
 * (explicit VR little endian; dcmjs looks the VRs up in its dictionary and writes text as UTF-8,
 * SpecificCharacterSet ISO_IR 192).
 */
import { randomUUID } from 'node:crypto';
import dcmjs, { type NaturalDataset } from 'dcmjs';
import { VERSION } from '../report/version.js';

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
/** calcdx's implementation class UID (a UUID-derived UID, PS3.5 B.2) */
export const IMPLEMENTATION_CLASS_UID = '2.25.66955474819484858703680394430220948107';

/** A new UID under 2.25 from a random UUID (PS3.5 B.2): at most 44 characters. */
export function newUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
/** DA and TM of a moment, in local time (as scanners write them). */
export function dicomDateTime(d: Date): { date: string; time: string } {
  return {
    date: `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}`,
    time: `${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`,
  };
}

/** A DS value: at most 16 characters (PS3.5 6.2), as few digits as keep the value. */
export function ds(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`DS value ${x} is not finite`);
  for (let digits = 10; digits >= 0; digits--) {
    const s = String(Number(x.toFixed(digits)));
    if (s.length <= 16) return s;
  }
  const e = x.toExponential(8);
  if (e.length > 16) throw new RangeError(`DS value ${x} does not fit 16 characters`);
  return e;
}

export interface Code { value: string; scheme: string; meaning: string }
export const code = (value: string, scheme: string, meaning: string): Code => ({ value, scheme, meaning });
/** A code sequence item, naturalized. */
export const codeItem = (c: Code): NaturalDataset => ({ CodeValue: c.value, CodingSchemeDesignator: c.scheme, CodeMeaning: c.meaning });

/** The equipment that made an object (General and Enhanced General Equipment modules). */
export const EQUIPMENT: NaturalDataset = {
  Manufacturer: 'calcdx',
  ManufacturerModelName: 'calcdx',
  DeviceSerialNumber: 'calcdx',
  SoftwareVersions: VERSION,
};

let quiet = false;
/** Encodes a naturalized dataset as a DICOM Part 10 file. */
export function encodePart10(ds: NaturalDataset): Uint8Array {
  if (!quiet) { dcmjs.log.setLevel('error'); quiet = true; }
  const sopClassUid = ds.SOPClassUID as string, sopInstanceUid = ds.SOPInstanceUID as string;
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: sopClassUid,
    MediaStorageSOPInstanceUID: sopInstanceUid,
    TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: `calcdx ${VERSION}`.slice(0, 16),
    _vrMap: { FileMetaInformationVersion: 'OB' },
  };
  const dict = new dcmjs.data.DicomDict(dcmjs.data.DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset(ds);
  return new Uint8Array(dict.write());
}
