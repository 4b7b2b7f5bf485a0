/**
 * Jinan's divisions for the demo city. The city and its 12 county-level divisions are the real
 * GB/T 2260 entries (2025). Street and town names follow real ones, but the set is a selection and
 * their 9-digit codes are assigned in list order, so they are not the official statistical codes;
 * communities are synthetic, generated deterministically from their street's code.
 */
import { seededRandom } from '../random.ts';
import type { Division } from './division.ts';

export const JINAN: Division = { code: '370100', name: '济南市', level: 'CITY', parentCode: null };

interface DistrictSource {
  code: string;
  name: string;
  streets: readonly string[];
}

const DISTRICTS: readonly DistrictSource[] = [
  {
    code: '370102',
    name: '历下区',
    streets: ['解放路街道', '千佛山街道', '趵突泉街道', '泉城路街道', '大明湖街道', '东关街道', '文东街道', '甸柳街道'],
  },
  {
    code: '370103',
    name: '市中区',
    streets: ['大观园街道', '杆石桥街道', '四里村街道', '魏家庄街道', '二七新村街道', '七里山街道', '六里山街道', '舜耕街道'],
  },
  {
    code: '370104',
    name: '槐荫区',
    streets: ['振兴街街道', '中大槐树街道', '道德街街道', '西市场街道', '五里沟街道', '营市街街道', '青年公园街道'],
  },
  {
    code: '370105',
    name: '天桥区',
    streets: ['无影山街道', '天桥东街街道', '北村街道', '南村街道', '堤口路街道', '北坦街道', '官扎营街道'],
  },
  {
    code: '370112',
    name: '历城区',
    streets: ['山大路街道', '洪家楼街道', '东风街道', '全福街道', '华山街道', '王舍人街道', '唐冶街道', '港沟街道'],
  },
  { code: '370113', name: '长清区', streets: ['文昌街道', '崮云湖街道', '平安街道', '归德街道', '张夏街道', '万德街道'] },
  { code: '370114', name: '章丘区', streets: ['明水街道', '双山街道', '枣园街道', '龙山街道', '埠村街道', '圣井街道'] },
  { code: '370115', name: '济阳区', streets: ['济阳街道', '济北街道', '回河街道', '崔寨街道', '孙耿街道'] },
  { code: '370116', name: '莱芜区', streets: ['凤城街道', '张家洼街道', '高庄街道', '鹏泉街道', '口镇街道'] },
  { code: '370117', name: '钢城区', streets: ['艾山街道', '里辛街道', '汶源街道', '颜庄街道', '辛庄街道'] },
  { code: '370124', name: '平阴县', streets: ['榆山街道', '锦水街道', '东阿镇', '玫瑰镇', '洪范池镇'] },
  { code: '370126', name: '商河县', streets: ['许商街道', '殷巷镇', '怀仁镇', '玉皇庙镇'] },
];

const COMMUNITY_NAMES = [
  '和平', '文化', '建设', '幸福', '阳光', '花园', '新华', '朝阳', '安康', '锦绣',
  '泉景', '翠苑', '柳园', '荷花', '明湖', '丁香', '青年', '福苑', '康乐', '永安',
  '长青', '兴隆', '绿园', '友谊', '春晖', '光明', '民生', '丰泽', '嘉园', '瑞景',
  '金鼎', '玉泉', '舜和', '华阳', '泉韵', '汇源', '望岳', '祥和', '百花', '书香',
] as const;

/** 3–6 communities with distinct names, codes `<street>001`, `<street>002`, … */
function communitiesOf(streetCode: string): Division[] {
  // Seeded by the street's code, so the same street always gets the same communities.
  const { next: random } = seededRandom(Number(streetCode) % 4294967296);
  const count = 3 + Math.floor(random() * 4);
  const pool: string[] = [...COMMUNITY_NAMES];
  const communities: Division[] = [];
  for (let i = 1; i <= count; i++) {
    const [name] = pool.splice(Math.floor(random() * pool.length), 1);
    communities.push({
      code: `${streetCode}${String(i).padStart(3, '0')}`,
      name: `${name ?? '新建'}社区`,
      level: 'COMMUNITY',
      parentCode: streetCode,
    });
  }
  return communities;
}

function buildJinan(): Division[] {
  const divisions: Division[] = [JINAN];
  for (const district of DISTRICTS) {
    divisions.push({ code: district.code, name: district.name, level: 'DISTRICT', parentCode: JINAN.code });
    district.streets.forEach((name, index) => {
      const code = `${district.code}${String(index + 1).padStart(3, '0')}`;
      divisions.push({ code, name, level: 'STREET', parentCode: district.code }, ...communitiesOf(code));
    });
  }
  return divisions;
}

/** Every division of the demo city, each parent before its children. */
export const jinanDivisions: readonly Division[] = buildJinan();
