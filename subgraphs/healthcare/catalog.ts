/**
 * The reference data health records and claims are validated against, kept as data: the city's
 * hospitals, the exam types of mutual recognition (检查检验结果互认) with their default recognition
 * windows, the vaccines with their dose series, and the formats of ICD-10 diagnosis codes and
 * medical-insurance item codes.
 */
import { ValidationError } from '../../events/errors.ts';

/** The entry of `entries` with the code, or a refusal naming the field and the codes there are. */
function catalogAssertion<Entry extends { code: string }>(entries: readonly Entry[], catalog: string, defaultField: string) {
  const byCode = new Map(entries.map((e) => [e.code, e]));
  return (code: string, field = defaultField): Entry => {
    const entry = byCode.get(code);
    if (!entry) throw new ValidationError(`${field} "${code}" is not in the ${catalog} catalog; use one of ${entries.map((e) => e.code).join(', ')}`, { field });
    return entry;
  };
}

export type HospitalLevel = 'TERTIARY_A' | 'SECONDARY_A';

export interface Hospital {
  /** `H` + the district's GB/T 2260 code + a 2-digit serial. */
  code: string;
  name: string;
  level: HospitalLevel;
  /** The district or county (6 digits) the hospital stands in. */
  districtCode: string;
}

export const HOSPITALS: readonly Hospital[] = [
  { code: 'H37010201', name: '山东大学齐鲁医院', level: 'TERTIARY_A', districtCode: '370102' },
  { code: 'H37010202', name: '山东第一医科大学第一附属医院（山东省千佛山医院）', level: 'TERTIARY_A', districtCode: '370102' },
  { code: 'H37010203', name: '济南市中心医院', level: 'TERTIARY_A', districtCode: '370102' },
  { code: 'H37010204', name: '山东中医药大学附属医院（山东省中医院）', level: 'TERTIARY_A', districtCode: '370102' },
  { code: 'H37010301', name: '济南市第四人民医院', level: 'TERTIARY_A', districtCode: '370103' },
  { code: 'H37010401', name: '山东省立医院', level: 'TERTIARY_A', districtCode: '370104' },
  { code: 'H37010402', name: '山东大学附属儿童医院（济南市儿童医院）', level: 'TERTIARY_A', districtCode: '370104' },
  { code: 'H37010501', name: '济南市天桥区人民医院', level: 'SECONDARY_A', districtCode: '370105' },
  { code: 'H37011201', name: '济南市第三人民医院', level: 'TERTIARY_A', districtCode: '370112' },
  { code: 'H37011301', name: '济南市长清区人民医院', level: 'SECONDARY_A', districtCode: '370113' },
  { code: 'H37011401', name: '济南市章丘区人民医院', level: 'TERTIARY_A', districtCode: '370114' },
  { code: 'H37011501', name: '济南市济阳区人民医院', level: 'SECONDARY_A', districtCode: '370115' },
  { code: 'H37011601', name: '济南市莱芜人民医院', level: 'TERTIARY_A', districtCode: '370116' },
  { code: 'H37011701', name: '济南市钢城区人民医院', level: 'SECONDARY_A', districtCode: '370117' },
  { code: 'H37012401', name: '平阴县人民医院', level: 'SECONDARY_A', districtCode: '370124' },
  { code: 'H37012601', name: '商河县人民医院', level: 'SECONDARY_A', districtCode: '370126' },
];

const hospitalsByCode = new Map(HOSPITALS.map((h) => [h.code, h]));

export function getHospital(code: string): Hospital | undefined {
  return hospitalsByCode.get(code);
}

export function assertHospital(code: string, field = 'hospitalCode'): Hospital {
  const hospital = hospitalsByCode.get(code);
  if (!hospital) {
    throw new ValidationError(`${field} "${code}" is not a hospital in the catalog; the \`hospitals\` query lists them`, { field });
  }
  return hospital;
}

export interface ExamType {
  code: string;
  name: string;
  /** How long a result is normally valid for reuse by another hospital. */
  defaultRecognitionDays: number;
}

/** Results any hospital of the city accepts instead of repeating the exam, within the window. */
export const EXAM_TYPES: readonly ExamType[] = [
  { code: 'CBC', name: '血常规', defaultRecognitionDays: 7 },
  { code: 'BLOOD_GLUCOSE', name: '空腹血糖', defaultRecognitionDays: 7 },
  { code: 'LIVER_FUNCTION', name: '肝功能', defaultRecognitionDays: 14 },
  { code: 'RENAL_FUNCTION', name: '肾功能', defaultRecognitionDays: 14 },
  { code: 'HBA1C', name: '糖化血红蛋白', defaultRecognitionDays: 90 },
  { code: 'ECG', name: '常规心电图', defaultRecognitionDays: 30 },
  { code: 'CHEST_XRAY', name: '胸部X线摄影', defaultRecognitionDays: 90 },
  { code: 'CHEST_CT', name: '胸部CT平扫', defaultRecognitionDays: 180 },
  { code: 'HEAD_CT', name: '头颅CT平扫', defaultRecognitionDays: 180 },
  { code: 'ABDOMINAL_US', name: '腹部超声', defaultRecognitionDays: 90 },
  { code: 'LUMBAR_MRI', name: '腰椎MRI', defaultRecognitionDays: 180 },
];

/** The longest recognition window a hospital may state. */
export const MAX_RECOGNITION_DAYS = 365;

export const assertExamType = catalogAssertion(EXAM_TYPES, 'exam', 'examType');

export interface Vaccine {
  code: string;
  name: string;
  /** Doses in the full series; a seasonal vaccine is one dose, repeated each season. */
  doses: number;
  seasonal: boolean;
}

export const VACCINES: readonly Vaccine[] = [
  { code: 'HEPB', name: '乙型肝炎疫苗', doses: 3, seasonal: false },
  { code: 'BCG', name: '卡介苗', doses: 1, seasonal: false },
  { code: 'POLIO', name: '脊髓灰质炎疫苗', doses: 4, seasonal: false },
  { code: 'DTAP', name: '百白破疫苗', doses: 4, seasonal: false },
  { code: 'MMR', name: '麻腮风疫苗', doses: 2, seasonal: false },
  { code: 'JE', name: '乙脑减毒活疫苗', doses: 2, seasonal: false },
  { code: 'HPV', name: '人乳头瘤病毒疫苗', doses: 3, seasonal: false },
  { code: 'PPV23', name: '23价肺炎球菌多糖疫苗', doses: 1, seasonal: false },
  { code: 'ZOSTER', name: '重组带状疱疹疫苗', doses: 2, seasonal: false },
  { code: 'COVID19', name: '新冠病毒疫苗', doses: 4, seasonal: false },
  { code: 'INFLUENZA', name: '流感疫苗', doses: 1, seasonal: true },
];

export const assertVaccine = catalogAssertion(VACCINES, 'vaccine', 'vaccine');

/**
 * ICD-10 codes as hospitals record them: a category (letter and two digits, `I10`) optionally
 * followed by a dot and up to four characters of subdivision (`J18.9`, `E11.900`; the Chinese
 * clinical edition extends the WHO codes with more digits after the dot).
 */
const ICD10 = /^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$/;

export function isIcd10Code(code: string): boolean {
  return ICD10.test(code);
}

/** Medical-insurance item codes (药品, 诊疗项目, 耗材): 6 to 30 capital letters and digits. */
const ITEM_CODE = /^[A-Z0-9]{6,30}$/;

export function isItemCode(code: string): boolean {
  return ITEM_CODE.test(code);
}
