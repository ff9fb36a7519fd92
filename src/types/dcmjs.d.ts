/** The part of dcmjs 0.51 that calcdx uses (the package ships no types). */
declare module 'dcmjs' {
  /** a naturalized dataset: keywords → values; `_vrMap` gives the VR of binary elements */
  export type NaturalDataset = Record<string, unknown>;
  export interface DenaturalizedDataset { [tag: string]: { vr: string; Value?: unknown[] } }
  export class DicomDict {
    constructor(meta: DenaturalizedDataset);
    meta: DenaturalizedDataset;
    dict: DenaturalizedDataset;
    write(options?: { allowInvalidVRLength?: boolean }): ArrayBuffer;
  }
  export const DicomMetaDictionary: {
    naturalizeDataset(ds: DenaturalizedDataset): NaturalDataset;
    denaturalizeDataset(ds: NaturalDataset): DenaturalizedDataset;
  };
  export const DicomMessage: {
    readFile(buffer: ArrayBuffer, options?: { ignoreErrors?: boolean; untilTag?: string | null; includeUntilTagValue?: boolean; noCopy?: boolean }): DicomDict;
  };
  const dcmjs: {
    data: { DicomDict: typeof DicomDict; DicomMetaDictionary: typeof DicomMetaDictionary; DicomMessage: typeof DicomMessage };
    log: { setLevel(level: string): void };
  };
  export default dcmjs;
}
