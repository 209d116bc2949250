#include "examples/sample/generator.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <vector>

#include "examples/sample/person.h"

namespace sluice::sample {
namespace {

// Deliberate dirt: the same small number of each kind at any size, so that a
// run's summary shows every category. Distinct numbers tell them apart.
constexpr int64_t kCrmUnmappedSpecialty = 7;
constexpr int64_t kCrmImpossibleDate = 5;
constexpr int64_t kCrmWrongColumnCount = 3;
constexpr int64_t kCrmEmptyKey = 2;
constexpr int64_t kErpUnknownSpecCode = 6;
constexpr int64_t kErpNullNationalId = 9;
constexpr int64_t kErpEmailWithoutAt = 4;
constexpr int64_t kErpNegativeRevenue = 8;

constexpr const char* kUnmappedSpecialties[] = {"XXX", "ENDO", "URO"};
constexpr const char* kImpossibleDates[] = {"31/02/2020", "30/02/2021", "31/04/2019", "31/06/2022",
                                            "29/02/2023"};

// ---------------------------------------------------------------------------
// Roles: which rows are duplicates, shared with the other system, or dirty.

enum Role : uint8_t {
  kPlain,       // a person of their own
  kDuplicate,   // repeats the person of a kDuplicated row of the same system
  kDuplicated,  // a clean row repeated by a kDuplicate row
  kShared,      // a clean row whose person the other system also holds
  kDirtA,       // CRM: unmapped specialty;  ERP: spec_code 99
  kDirtB,       // CRM: impossible date;     ERP: NULL nat_id
  kDirtC,       // CRM: wrong column count;  ERP: email without '@'
  kDirtD,       // CRM: empty hcp_id;        ERP: negative revenue
  kRoleCount,
};

struct Roles {
  std::vector<uint8_t> of_row;
  // The rows of each role, in a seeded random order; the k-th kDuplicate row
  // repeats the k-th kDuplicated row.
  std::array<std::vector<uint32_t>, kRoleCount> rows;
  // The index of each row's person (see AssignPersons).
  std::vector<uint32_t> person;
};

// How many rows each role gets.
std::array<int64_t, kRoleCount> RoleCounts(int64_t duplicates, int64_t shared, int64_t dirt_a,
                                           int64_t dirt_b, int64_t dirt_c, int64_t dirt_d) {
  return {0, duplicates, duplicates, shared, dirt_a, dirt_b, dirt_c, dirt_d};
}

// Draws `counts[r]` distinct rows for every role r but kPlain (partial
// Fisher-Yates shuffle of the row numbers).
Roles AssignRoles(uint32_t n, const std::array<int64_t, kRoleCount>& counts, uint64_t seed,
                  uint64_t system) {
  Roles roles;
  roles.of_row.assign(n, kPlain);
  std::vector<uint32_t> perm(n);
  for (uint32_t i = 0; i < n; ++i) perm[i] = i;
  SplitMix64 rng = RngFor(seed, Stream::kRoles, system);
  uint32_t next = 0;
  for (int r = kDuplicate; r < kRoleCount; ++r) {
    for (int64_t k = 0; k < counts[r]; ++k, ++next) {
      std::swap(perm[next], perm[next + rng.Below(n - next)]);
      roles.of_row[perm[next]] = static_cast<uint8_t>(r);
      roles.rows[r].push_back(perm[next]);
    }
  }
  return roles;
}

// Numbers the persons of a system's rows: `shared_persons` (when given) for
// the kShared rows in order, then new persons from `*next_person` in row
// order; a kDuplicate row gets the person of its kDuplicated row.
void AssignPersons(Roles* roles, const std::vector<uint32_t>* shared_persons,
                   uint32_t* next_person) {
  const size_t n = roles->of_row.size();
  roles->person.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    if (roles->of_row[i] == kDuplicate) continue;
    if (roles->of_row[i] == kShared && shared_persons != nullptr) continue;
    roles->person[i] = (*next_person)++;
  }
  if (shared_persons != nullptr) {
    for (size_t k = 0; k < roles->rows[kShared].size(); ++k) {
      roles->person[roles->rows[kShared][k]] = (*shared_persons)[k];
    }
  }
  for (size_t k = 0; k < roles->rows[kDuplicate].size(); ++k) {
    roles->person[roles->rows[kDuplicate][k]] = roles->person[roles->rows[kDuplicated][k]];
  }
}

// ---------------------------------------------------------------------------
// hcp_crm.csv

constexpr const char* kCrmHeader =
    "hcp_id,national_id,first_name,last_name,specialty,street,city,postcode,country,phone,"
    "email,account_type,registered,revenue\n";

// Appends CSV row `row` (0-based) holding person `p`, with the dirt of `role`.
// `ordinal` numbers the rows of that role, to vary the dirt.
void AppendCrmRow(uint32_t row, const Person& p, Role role, size_t ordinal, std::string* out) {
  if (role != kDirtD) {
    out->append("CRM");
    AppendPadded(row + 1, 7, out);
  }
  out->append(",FR");
  AppendPadded(static_cast<int64_t>(p.national_id), 11, out);
  out->push_back(',');
  out->append(p.first->text);
  out->push_back(',');
  out->append(p.last->text);
  out->push_back(',');
  out->append(role == kDirtA ? kUnmappedSpecialties[ordinal % std::size(kUnmappedSpecialties)]
                             : kSpecialtyCodes[p.specialty]);
  out->push_back(',');
  const bool missing_field = role == kDirtC && ordinal % 3 == 2;
  if (role == kDirtC && !missing_field) {
    out->append(Street(p, true));  // the comma left unquoted: 15 fields
  } else {
    AppendCsvField(Street(p, p.street_comma), out);
  }
  out->push_back(',');
  AppendCsvField(p.city->name, out);
  out->push_back(',');
  AppendPadded(p.postcode, 5, out);
  out->append(p.country_missing ? "," : ",FR");
  out->push_back(',');
  AppendPhone(p, true, out);
  if (!missing_field) {  // the e-mail column dropped: 13 fields
    out->push_back(',');
    AppendEmail(p, "@", out);
  }
  out->push_back(',');
  out->append(kAccountTypes[p.account_type]);
  out->push_back(',');
  if (role == kDirtB) {
    out->append(kImpossibleDates[ordinal % std::size(kImpossibleDates)]);
  } else {
    AppendDayMonthYear(p.registered, out);
  }
  out->push_back(',');
  AppendCents(p.revenue_cents, out);
  out->push_back('\n');
}

// Writes the CSV of `roles`' rows; kDuplicate rows are the person retyped.
Status WriteCrmCsv(const std::string& path, uint64_t seed, const Roles& roles, int64_t* bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return Status::IoError(path + ": " + std::strerror(errno));
  std::string buf = kCrmHeader;
  buf.reserve(1 << 20);
  std::array<size_t, kRoleCount> ordinal{};
  int64_t written = 0;
  bool ok = true;
  for (uint32_t row = 0; row < roles.of_row.size() && ok; ++row) {
    const Role role = static_cast<Role>(roles.of_row[row]);
    Person p = MakePerson(seed, roles.person[row]);
    if (role == kDuplicate) {
      SplitMix64 rng = RngFor(seed, Stream::kCrmAgain, row);
      p = Retyped(p, rng);
    }
    AppendCrmRow(row, p, role, ordinal[role]++, &buf);
    if (buf.size() >= (1 << 20) - 512) {
      ok = std::fwrite(buf.data(), 1, buf.size(), f) == buf.size();
      written += static_cast<int64_t>(buf.size());
      buf.clear();
    }
  }
  ok = ok && std::fwrite(buf.data(), 1, buf.size(), f) == buf.size();
  written += static_cast<int64_t>(buf.size());
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) return Status::IoError(path + ": write failed");
  if (bytes != nullptr) *bytes = written;
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// erp.db

constexpr const char* kErpSchema =
    "CREATE TABLE doctors(doc_id INTEGER PRIMARY KEY, nat_id TEXT, given_name TEXT, "
    "family_name TEXT, spec_code INTEGER, address TEXT, town TEXT, zip TEXT, country_code TEXT, "
    "telephone TEXT, mail TEXT, acct_type TEXT, created TEXT, turnover TEXT, updated_at TEXT)";
constexpr int64_t kFirstDocId = 100001;

Status SqliteError(sqlite3* db, const std::string& path) {
  return Status::IoError(path + ": " + (db != nullptr ? sqlite3_errmsg(db) : "cannot open"));
}

// Binds the ERP's view of person `p` to the insert, with the dirt of `role`.
void BindErpRow(sqlite3_stmt* insert, uint32_t row, const Person& p, Role role, size_t ordinal) {
  auto text = [insert](int column, const std::string& value) {
    sqlite3_bind_text(insert, column, value.data(), static_cast<int>(value.size()),
                      SQLITE_TRANSIENT);
  };
  sqlite3_bind_int64(insert, 1, kFirstDocId + row);
  if (role == kDirtB) {
    sqlite3_bind_null(insert, 2);
  } else {
    std::string nat_id = "FR";
    AppendPadded(static_cast<int64_t>(p.national_id), 11, &nat_id);
    text(2, nat_id);
  }
  text(3, p.first->text);
  text(4, p.last->text);
  sqlite3_bind_int64(insert, 5, role == kDirtA ? 99 : p.specialty + 1);
  text(6, Street(p, false));
  text(7, p.city->name);
  std::string zip;
  AppendPadded(p.postcode, 5, &zip);
  text(8, zip);
  if (p.country_missing) {
    sqlite3_bind_null(insert, 9);
  } else {
    text(9, "FR");
  }
  std::string phone;
  AppendPhone(p, false, &phone);
  text(10, phone);
  std::string mail;
  AppendEmail(p, role != kDirtC ? "@" : ordinal % 2 == 0 ? "." : "(at)", &mail);
  text(11, mail);
  text(12, kAccountTypes[p.account_type]);
  text(13, IsoDate(p.registered));
  std::string turnover = role == kDirtD ? "-" : "";
  AppendCents(p.revenue_cents, &turnover);
  text(14, turnover);
  text(15, IsoTimestamp(p.updated_at));
}

Status WriteErpDb(const std::string& path, uint64_t seed, const Roles& roles) {
  std::error_code ec;
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {
    std::filesystem::remove(path + suffix, ec);
  }
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    Status status = SqliteError(db, path);
    sqlite3_close(db);
    return status;
  }
  sqlite3_stmt* insert = nullptr;
  bool ok = sqlite3_exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN", nullptr,
                         nullptr, nullptr) == SQLITE_OK &&
            sqlite3_exec(db, kErpSchema, nullptr, nullptr, nullptr) == SQLITE_OK &&
            sqlite3_prepare_v2(db, "INSERT INTO doctors VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1,
                               &insert, nullptr) == SQLITE_OK;
  std::array<size_t, kRoleCount> ordinal{};
  for (uint32_t row = 0; ok && row < roles.of_row.size(); ++row) {
    const Role role = static_cast<Role>(roles.of_row[row]);
    // Every ERP row is the ERP's own rendering of its person; a duplicate is
    // that rendering typed in once more.
    SplitMix64 rng = RngFor(seed, Stream::kErp, roles.person[row]);
    Person p = Retyped(MakePerson(seed, roles.person[row]), rng);
    if (role == kDuplicate) {
      SplitMix64 again = RngFor(seed, Stream::kErpAgain, row);
      p = Retyped(p, again);
    }
    BindErpRow(insert, row, p, role, ordinal[role]++);
    ok = sqlite3_step(insert) == SQLITE_DONE && sqlite3_reset(insert) == SQLITE_OK;
  }
  ok = ok && sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK;
  Status status = ok ? Status::Ok() : SqliteError(db, path);
  sqlite3_finalize(insert);
  if (sqlite3_close(db) != SQLITE_OK && status.ok()) status = SqliteError(nullptr, path);
  return status;
}

}  // namespace

Status WriteQuickstart(const QuickstartOptions& options, QuickstartCounts* counts) {
  constexpr int64_t kMaxRows = 50000000;
  if (options.crm_rows < 1000 || options.crm_rows > kMaxRows || options.erp_rows < 1000 ||
      options.erp_rows > kMaxRows) {
    return Status::InvalidArgument("--crm-rows and --erp-rows must be between 1000 and 50000000");
  }
  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  if (ec) return Status::IoError(options.out_dir + ": " + ec.message());

  QuickstartCounts c;
  c.crm_rows = options.crm_rows;
  c.erp_rows = options.erp_rows;
  c.crm_duplicates = c.crm_rows / 200;  // 0.5%
  c.erp_duplicates = c.erp_rows / 200;
  c.crm_unmapped_specialty = kCrmUnmappedSpecialty;
  c.crm_impossible_date = kCrmImpossibleDate;
  c.crm_wrong_column_count = kCrmWrongColumnCount;
  c.crm_empty_key = kCrmEmptyKey;
  c.erp_unknown_spec_code = kErpUnknownSpecCode;
  c.erp_null_national_id = kErpNullNationalId;
  c.erp_email_without_at = kErpEmailWithoutAt;
  c.erp_negative_revenue = kErpNegativeRevenue;
  // 12% of the ERP are CRM persons, as far as the CRM has clean rows to spare.
  const int64_t crm_spare = c.crm_rows - 2 * c.crm_duplicates - kCrmUnmappedSpecialty -
                            kCrmImpossibleDate - kCrmWrongColumnCount - kCrmEmptyKey;
  c.erp_shared = std::min(c.erp_rows * 12 / 100, crm_spare);
  c.crm_shared = c.erp_shared;

  const auto crm_counts =
      RoleCounts(c.crm_duplicates, c.crm_shared, c.crm_unmapped_specialty, c.crm_impossible_date,
                 c.crm_wrong_column_count, c.crm_empty_key);
  const auto erp_counts =
      RoleCounts(c.erp_duplicates, c.erp_shared, c.erp_unknown_spec_code, c.erp_null_national_id,
                 c.erp_email_without_at, c.erp_negative_revenue);
  Roles crm = AssignRoles(static_cast<uint32_t>(c.crm_rows), crm_counts, options.seed, 1);
  Roles erp = AssignRoles(static_cast<uint32_t>(c.erp_rows), erp_counts, options.seed, 2);
  uint32_t next_person = 0;
  AssignPersons(&crm, nullptr, &next_person);
  std::vector<uint32_t> shared_persons;
  for (uint32_t row : crm.rows[kShared]) shared_persons.push_back(crm.person[row]);
  AssignPersons(&erp, &shared_persons, &next_person);

  const std::string dir = options.out_dir + "/";
  if (Status s = WriteCrmCsv(dir + "hcp_crm.csv", options.seed, crm, nullptr); !s.ok()) return s;
  if (Status s = WriteErpDb(dir + "erp.db", options.seed, erp); !s.ok()) return s;
  *counts = c;
  return Status::Ok();
}

Status WriteBenchCsv(const BenchOptions& options, int64_t* bytes) {
  if (options.rows < 1 || options.rows > 200000000) {
    return Status::InvalidArgument("--rows must be between 1 and 200000000");
  }
  const auto counts = RoleCounts(options.rows / 200, 0, 0, 0, 0, 0);  // 0.5% duplicates
  Roles roles = AssignRoles(static_cast<uint32_t>(options.rows), counts, options.seed, 3);
  uint32_t next_person = 0;
  AssignPersons(&roles, nullptr, &next_person);
  return WriteCrmCsv(options.out_path, options.seed, roles, bytes);
}

}  // namespace sluice::sample
