// The area code table. Sources, from public data:
// - assignments: NANPA, the North American Numbering Plan Administrator, "NPA
//   (area code) assignments" (nationalnanpa.com, reports "NPAs in service" and
//   the area code maps), and for Canada the CNA, Canadian Numbering
//   Administrator (cnac.ca, "Area codes in Canada");
// - zones: the IANA tz database (its zone.tab region comments) for each region.
// Written by hand from those facts and cross-checked against the public
// libphonenumber metadata; docs/nanp.md says how to update it.
#include "core/nanp.hpp"

#include <array>
#include <cstdint>

namespace gymdash::nanp {

namespace {

// Canonical zone names only (no backward-compatibility links such as
// America/St_Thomas or Pacific/Saipan, which some systems ship separately).
constexpr std::string_view kEastern = "America/New_York";
constexpr std::string_view kDetroit = "America/Detroit";               // Michigan
constexpr std::string_view kIndiana = "America/Indiana/Indianapolis";  // Indiana's Eastern part
constexpr std::string_view kLouisville = "America/Kentucky/Louisville";
constexpr std::string_view kCentral = "America/Chicago";
constexpr std::string_view kMountain = "America/Denver";
constexpr std::string_view kBoise = "America/Boise";      // southern Idaho
constexpr std::string_view kArizona = "America/Phoenix";  // no DST
constexpr std::string_view kPacific = "America/Los_Angeles";
constexpr std::string_view kAlaska = "America/Anchorage";
constexpr std::string_view kHawaii = "Pacific/Honolulu";
constexpr std::string_view kPuertoRico = "America/Puerto_Rico";  // also the US Virgin Islands (same rules)
constexpr std::string_view kGuam = "Pacific/Guam";               // also the Northern Mariana Islands
constexpr std::string_view kPagoPago = "Pacific/Pago_Pago";
constexpr std::string_view kNewfoundland = "America/St_Johns";
constexpr std::string_view kAtlantic = "America/Halifax";
constexpr std::string_view kMoncton = "America/Moncton";  // New Brunswick
constexpr std::string_view kToronto = "America/Toronto";  // Ontario and Quebec
constexpr std::string_view kWinnipeg = "America/Winnipeg";
constexpr std::string_view kRegina = "America/Regina";  // Saskatchewan: CST all year
constexpr std::string_view kEdmonton = "America/Edmonton";
constexpr std::string_view kVancouver = "America/Vancouver";
constexpr std::string_view kYukon = "America/Whitehorse";  // MST all year

struct Row {
  std::uint16_t npa;
  std::string_view state;
  std::string_view zone;
};

// Every geographic area code in service in the US, its territories and Canada.
// Overlays (several codes over one region) each have their own row. Where an
// area code spans zones, the row gives the zone of most of its population and
// the comment names the minority ("split: …"); a lead there whose real zone
// differs is called by the majority zone's clock unless the lead has its own.
constexpr Row kRows[] = {
    {201, "NJ", kEastern},
    {202, "DC", kEastern},
    {203, "CT", kEastern},
    {204, "MB", kWinnipeg},
    {205, "AL", kCentral},
    {206, "WA", kPacific},
    {207, "ME", kEastern},
    {208, "ID", kBoise},  // split: the Panhandle (Coeur d'Alene) is Pacific
    {209, "CA", kPacific},
    {210, "TX", kCentral},
    {212, "NY", kEastern},
    {213, "CA", kPacific},
    {214, "TX", kCentral},
    {215, "PA", kEastern},
    {216, "OH", kEastern},
    {217, "IL", kCentral},
    {218, "MN", kCentral},
    {219, "IN", kCentral},  // split: NW Indiana (Gary, Hammond, Valparaiso) keeps Central time
    {220, "OH", kEastern},
    {223, "PA", kEastern},
    {224, "IL", kCentral},
    {225, "LA", kCentral},
    {226, "ON", kToronto},
    {227, "MD", kEastern},
    {228, "MS", kCentral},
    {229, "GA", kEastern},
    {231, "MI", kDetroit},
    {234, "OH", kEastern},
    {235, "MO", kCentral},
    {236, "BC", kVancouver},  // overlay of 250: same split
    {239, "FL", kEastern},
    {240, "MD", kEastern},
    {248, "MI", kDetroit},
    {249, "ON", kToronto},
    {250, "BC", kVancouver},  // split: the Peace River region and East Kootenay are on Mountain time
    {251, "AL", kCentral},
    {252, "NC", kEastern},
    {253, "WA", kPacific},
    {254, "TX", kCentral},
    {256, "AL", kCentral},
    {257, "BC", kVancouver},  // overlay of 250: same split
    {260, "IN", kIndiana},
    {262, "WI", kCentral},
    {263, "QC", kToronto},
    {267, "PA", kEastern},
    {269, "MI", kDetroit},
    {270, "KY", kCentral},  // split: western Kentucky; Elizabethtown and a few counties are Eastern
    {272, "PA", kEastern},
    {274, "WI", kCentral},
    {276, "VA", kEastern},
    {279, "CA", kPacific},
    {281, "TX", kCentral},
    {283, "OH", kEastern},
    {289, "ON", kToronto},
    {301, "MD", kEastern},
    {302, "DE", kEastern},
    {303, "CO", kMountain},
    {304, "WV", kEastern},
    {305, "FL", kEastern},
    {306, "SK", kRegina},
    {307, "WY", kMountain},
    {308, "NE", kCentral},  // split: central and western Nebraska; the Panhandle (Scottsbluff) is Mountain
    {309, "IL", kCentral},
    {310, "CA", kPacific},
    {312, "IL", kCentral},
    {313, "MI", kDetroit},
    {314, "MO", kCentral},
    {315, "NY", kEastern},
    {316, "KS", kCentral},
    {317, "IN", kIndiana},
    {318, "LA", kCentral},
    {319, "IA", kCentral},
    {320, "MN", kCentral},
    {321, "FL", kEastern},
    {323, "CA", kPacific},
    {324, "FL", kEastern},
    {325, "TX", kCentral},
    {326, "OH", kEastern},
    {327, "AR", kCentral},
    {329, "NY", kEastern},
    {330, "OH", kEastern},
    {331, "IL", kCentral},
    {332, "NY", kEastern},
    {334, "AL", kCentral},
    {336, "NC", kEastern},
    {337, "LA", kCentral},
    {339, "MA", kEastern},
    {340, "VI", kPuertoRico},
    {341, "CA", kPacific},
    {343, "ON", kToronto},
    {346, "TX", kCentral},
    {347, "NY", kEastern},
    {350, "CA", kPacific},
    {351, "MA", kEastern},
    {352, "FL", kEastern},
    {353, "WI", kCentral},
    {354, "QC", kToronto},
    {360, "WA", kPacific},
    {361, "TX", kCentral},
    {363, "NY", kEastern},
    {364, "KY", kCentral},  // overlay of 270: same split
    {365, "ON", kToronto},
    {367, "QC", kToronto},
    {368, "AB", kEdmonton},
    {369, "CA", kPacific},
    {380, "OH", kEastern},
    {382, "ON", kToronto},
    {385, "UT", kMountain},
    {386, "FL", kEastern},
    {401, "RI", kEastern},
    {402, "NE", kCentral},
    {403, "AB", kEdmonton},
    {404, "GA", kEastern},
    {405, "OK", kCentral},
    {406, "MT", kMountain},
    {407, "FL", kEastern},
    {408, "CA", kPacific},
    {409, "TX", kCentral},
    {410, "MD", kEastern},
    {412, "PA", kEastern},
    {413, "MA", kEastern},
    {414, "WI", kCentral},
    {415, "CA", kPacific},
    {416, "ON", kToronto},
    {417, "MO", kCentral},
    {418, "QC", kToronto},
    {419, "OH", kEastern},
    {423, "TN", kEastern},  // split: Chattanooga and the Tri-Cities; a few Sequatchie Valley counties are Central
    {424, "CA", kPacific},
    {425, "WA", kPacific},
    {428, "NB", kMoncton},
    {430, "TX", kCentral},
    {431, "MB", kWinnipeg},
    {432, "TX", kCentral},
    {434, "VA", kEastern},
    {435, "UT", kMountain},
    {437, "ON", kToronto},
    {438, "QC", kToronto},
    {440, "OH", kEastern},
    {442, "CA", kPacific},
    {443, "MD", kEastern},
    {445, "PA", kEastern},
    {447, "IL", kCentral},
    {448, "FL", kCentral},  // overlay of 850: same split
    {450, "QC", kToronto},
    {458, "OR", kPacific},  // overlay of 541: same split
    {463, "IN", kIndiana},
    {464, "IL", kCentral},
    {468, "QC", kToronto},
    {469, "TX", kCentral},
    {470, "GA", kEastern},
    {472, "NC", kEastern},
    {474, "SK", kRegina},
    {475, "CT", kEastern},
    {478, "GA", kEastern},
    {479, "AR", kCentral},
    {480, "AZ", kArizona},
    {484, "PA", kEastern},
    {501, "AR", kCentral},
    {502, "KY", kLouisville},
    {503, "OR", kPacific},
    {504, "LA", kCentral},
    {505, "NM", kMountain},
    {506, "NB", kMoncton},
    {507, "MN", kCentral},
    {508, "MA", kEastern},
    {509, "WA", kPacific},
    {510, "CA", kPacific},
    {512, "TX", kCentral},
    {513, "OH", kEastern},
    {514, "QC", kToronto},
    {515, "IA", kCentral},
    {516, "NY", kEastern},
    {517, "MI", kDetroit},
    {518, "NY", kEastern},
    {519, "ON", kToronto},
    {520, "AZ", kArizona},
    {530, "CA", kPacific},
    {531, "NE", kCentral},
    {534, "WI", kCentral},
    {539, "OK", kCentral},
    {540, "VA", kEastern},
    {541, "OR", kPacific},  // split: Malheur County (Ontario) is Mountain
    {548, "ON", kToronto},
    {551, "NJ", kEastern},
    {557, "MO", kCentral},
    {559, "CA", kPacific},
    {561, "FL", kEastern},
    {562, "CA", kPacific},
    {563, "IA", kCentral},
    {564, "WA", kPacific},
    {567, "OH", kEastern},
    {570, "PA", kEastern},
    {571, "VA", kEastern},
    {572, "OK", kCentral},
    {573, "MO", kCentral},
    {574, "IN", kIndiana},  // split: Starke County is Central
    {575, "NM", kMountain},
    {579, "QC", kToronto},
    {580, "OK", kCentral},
    {581, "QC", kToronto},
    {582, "PA", kEastern},
    {584, "MB", kWinnipeg},
    {585, "NY", kEastern},
    {586, "MI", kDetroit},
    {587, "AB", kEdmonton},
    {601, "MS", kCentral},
    {602, "AZ", kArizona},
    {603, "NH", kEastern},
    {604, "BC", kVancouver},
    {605, "SD", kCentral},  // split: West River (Rapid City) is Mountain
    {606, "KY", kEastern},  // split: a few south-central counties are Central
    {607, "NY", kEastern},
    {608, "WI", kCentral},
    {609, "NJ", kEastern},
    {610, "PA", kEastern},
    {612, "MN", kCentral},
    {613, "ON", kToronto},
    {614, "OH", kEastern},
    {615, "TN", kCentral},
    {616, "MI", kDetroit},
    {617, "MA", kEastern},
    {618, "IL", kCentral},
    {619, "CA", kPacific},
    {620, "KS", kCentral},  // split: Greeley and Hamilton counties are Mountain
    {623, "AZ", kArizona},
    {626, "CA", kPacific},
    {628, "CA", kPacific},
    {629, "TN", kCentral},
    {630, "IL", kCentral},
    {631, "NY", kEastern},
    {636, "MO", kCentral},
    {639, "SK", kRegina},
    {640, "NJ", kEastern},
    {641, "IA", kCentral},
    {645, "FL", kEastern},
    {646, "NY", kEastern},
    {647, "ON", kToronto},
    {650, "CA", kPacific},
    {651, "MN", kCentral},
    {656, "FL", kEastern},
    {657, "CA", kPacific},
    {659, "AL", kCentral},
    {660, "MO", kCentral},
    {661, "CA", kPacific},
    {662, "MS", kCentral},
    {667, "MD", kEastern},
    {669, "CA", kPacific},
    {670, "MP", kGuam},
    {671, "GU", kGuam},
    {672, "BC", kVancouver},  // overlay of 250: same split
    {678, "GA", kEastern},
    {680, "NY", kEastern},
    {681, "WV", kEastern},
    {682, "TX", kCentral},
    {683, "ON", kToronto},
    {684, "AS", kPagoPago},
    {686, "VA", kEastern},
    {689, "FL", kEastern},
    {701, "ND", kCentral},  // split: the south-west (Dickinson, Bowman) is Mountain
    {702, "NV", kPacific},
    {703, "VA", kEastern},
    {704, "NC", kEastern},
    {705, "ON", kToronto},
    {706, "GA", kEastern},
    {707, "CA", kPacific},
    {708, "IL", kCentral},
    {709, "NL", kNewfoundland},  // split: Labrador (mostly Atlantic) is a small share
    {712, "IA", kCentral},
    {713, "TX", kCentral},
    {714, "CA", kPacific},
    {715, "WI", kCentral},
    {716, "NY", kEastern},
    {717, "PA", kEastern},
    {718, "NY", kEastern},
    {719, "CO", kMountain},
    {720, "CO", kMountain},
    {724, "PA", kEastern},
    {725, "NV", kPacific},
    {726, "TX", kCentral},
    {727, "FL", kEastern},
    {728, "FL", kEastern},
    {730, "IL", kCentral},
    {731, "TN", kCentral},
    {732, "NJ", kEastern},
    {734, "MI", kDetroit},
    {737, "TX", kCentral},
    {738, "CA", kPacific},
    {740, "OH", kEastern},
    {742, "ON", kToronto},
    {743, "NC", kEastern},
    {747, "CA", kPacific},
    {748, "CO", kMountain},
    {753, "ON", kToronto},
    {754, "FL", kEastern},
    {757, "VA", kEastern},
    {760, "CA", kPacific},
    {762, "GA", kEastern},
    {763, "MN", kCentral},
    {765, "IN", kIndiana},
    {769, "MS", kCentral},
    {770, "GA", kEastern},
    {771, "DC", kEastern},
    {772, "FL", kEastern},
    {773, "IL", kCentral},
    {774, "MA", kEastern},
    {775, "NV", kPacific},  // split: West Wendover is Mountain
    {778, "BC", kVancouver},  // overlay of 250: same split
    {779, "IL", kCentral},
    {780, "AB", kEdmonton},
    {781, "MA", kEastern},
    {782, "NS", kAtlantic},
    {785, "KS", kCentral},  // split: Sherman and Wallace counties are Mountain
    {786, "FL", kEastern},
    {787, "PR", kPuertoRico},
    {801, "UT", kMountain},
    {802, "VT", kEastern},
    {803, "SC", kEastern},
    {804, "VA", kEastern},
    {805, "CA", kPacific},
    {806, "TX", kCentral},
    {807, "ON", kToronto},  // split: Thunder Bay is Eastern; Kenora and the west are Central
    {808, "HI", kHawaii},
    {810, "MI", kDetroit},
    {812, "IN", kIndiana},  // split: Evansville and the south-west are Central
    {813, "FL", kEastern},
    {814, "PA", kEastern},
    {815, "IL", kCentral},
    {816, "MO", kCentral},
    {817, "TX", kCentral},
    {818, "CA", kPacific},
    {819, "QC", kToronto},
    {820, "CA", kPacific},
    {821, "SC", kEastern},
    {825, "AB", kEdmonton},
    {826, "VA", kEastern},
    {828, "NC", kEastern},
    {830, "TX", kCentral},
    {831, "CA", kPacific},
    {832, "TX", kCentral},
    {835, "PA", kEastern},
    {838, "NY", kEastern},
    {839, "SC", kEastern},
    {840, "CA", kPacific},
    {843, "SC", kEastern},
    {845, "NY", kEastern},
    {847, "IL", kCentral},
    {848, "NJ", kEastern},
    // split: Pensacola, Fort Walton Beach and Panama City (Central) outnumber
    // Tallahassee and the Big Bend (Eastern).
    {850, "FL", kCentral},
    {854, "SC", kEastern},
    {856, "NJ", kEastern},
    {857, "MA", kEastern},
    {858, "CA", kPacific},
    {859, "KY", kEastern},
    {860, "CT", kEastern},
    {862, "NJ", kEastern},
    {863, "FL", kEastern},
    {864, "SC", kEastern},
    {865, "TN", kEastern},
    // split: Yukon (MST all year), the Northwest Territories (Mountain, with DST)
    // and Nunavut (Eastern to Mountain); Yukon and the NWT are about even, Yukon
    // ahead in recent estimates.
    {867, "YT", kYukon},
    {870, "AR", kCentral},
    {872, "IL", kCentral},
    {873, "QC", kToronto},
    {878, "PA", kEastern},
    {879, "NL", kNewfoundland},  // overlay of 709: same split
    {901, "TN", kCentral},
    {902, "NS", kAtlantic},
    {903, "TX", kCentral},
    {904, "FL", kEastern},
    {905, "ON", kToronto},
    {906, "MI", kDetroit},  // split: the four counties bordering Wisconsin are Central
    {907, "AK", kAlaska},  // split: the Aleutians west of 169°30'W use America/Adak
    {908, "NJ", kEastern},
    {909, "CA", kPacific},
    {910, "NC", kEastern},
    {912, "GA", kEastern},
    {913, "KS", kCentral},
    {914, "NY", kEastern},
    {915, "TX", kMountain},  // El Paso: the one Texas area code on Mountain time
    {916, "CA", kPacific},
    {917, "NY", kEastern},
    {918, "OK", kCentral},
    {919, "NC", kEastern},
    {920, "WI", kCentral},
    {925, "CA", kPacific},
    {928, "AZ", kArizona},  // split: the Navajo Nation observes DST
    {929, "NY", kEastern},
    {930, "IN", kIndiana},  // overlay of 812: same split
    {931, "TN", kCentral},
    {934, "NY", kEastern},
    {936, "TX", kCentral},
    {937, "OH", kEastern},
    {938, "AL", kCentral},
    {939, "PR", kPuertoRico},
    {940, "TX", kCentral},
    {941, "FL", kEastern},
    {942, "ON", kToronto},
    {943, "GA", kEastern},
    {945, "TX", kCentral},
    {947, "MI", kDetroit},
    {948, "VA", kEastern},
    {949, "CA", kPacific},
    {951, "CA", kPacific},
    {952, "MN", kCentral},
    {954, "FL", kEastern},
    {956, "TX", kCentral},
    {959, "CT", kEastern},
    {970, "CO", kMountain},
    {971, "OR", kPacific},
    {972, "TX", kCentral},
    {973, "NJ", kEastern},
    {975, "MO", kCentral},
    {978, "MA", kEastern},
    {979, "TX", kCentral},
    {980, "NC", kEastern},
    {983, "CO", kMountain},
    {984, "NC", kEastern},
    {985, "LA", kCentral},
    {986, "ID", kBoise},  // overlay of 208: same split
    {989, "MI", kDetroit},
};

constexpr bool is_province(std::string_view s) {
  for (std::string_view p : {"AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"})
    if (s == p) return true;
  return false;
}

constexpr std::string_view country_of(std::string_view state) {
  if (is_province(state)) return "CA";
  for (std::string_view t : {"PR", "VI", "GU", "MP", "AS"})
    if (state == t) return t;
  return "US";
}

constexpr auto make_entries() {
  std::array<Entry, std::size(kRows)> out{};
  for (std::size_t i = 0; i < std::size(kRows); ++i)
    out[i] = Entry{kRows[i].npa, AreaInfo{kRows[i].state, kRows[i].zone, country_of(kRows[i].state)}};
  return out;
}

constexpr auto kEntries = make_entries();

// Row of each area code, or -1: lookups are one array read.
constexpr auto make_index() {
  std::array<std::int16_t, 1000> index{};
  for (auto& slot : index) slot = -1;
  for (std::size_t i = 0; i < std::size(kRows); ++i) index[kRows[i].npa] = static_cast<std::int16_t>(i);
  return index;
}

constexpr auto kIndex = make_index();

constexpr bool sorted_unique_geographic() {
  for (std::size_t i = 0; i < std::size(kRows); ++i) {
    const int npa = kRows[i].npa;
    if (npa < 200 || npa > 999 || npa % 100 == 11) return false;  // N11 codes are service codes
    if (i > 0 && kRows[i - 1].npa >= npa) return false;
    if (kRows[i].state.size() != 2) return false;
  }
  return true;
}
static_assert(sorted_unique_geographic(), "kRows must be sorted by area code, each code once, states two letters");

}  // namespace

std::optional<AreaInfo> lookup(int npa) noexcept {
  if (npa < 0 || npa >= static_cast<int>(kIndex.size())) return std::nullopt;
  const auto row = kIndex[static_cast<std::size_t>(npa)];
  if (row < 0) return std::nullopt;
  return kEntries[static_cast<std::size_t>(row)].info;
}

std::optional<AreaInfo> lookup_e164(std::string_view e164) noexcept {
  if (e164.size() != 12 || e164[0] != '+' || e164[1] != '1') return std::nullopt;
  for (std::size_t i = 2; i < e164.size(); ++i)
    if (e164[i] < '0' || e164[i] > '9') return std::nullopt;
  return lookup((e164[2] - '0') * 100 + (e164[3] - '0') * 10 + (e164[4] - '0'));
}

std::span<const Entry> entries() noexcept { return kEntries; }

}  // namespace gymdash::nanp
