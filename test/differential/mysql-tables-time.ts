import { MY_DATE, MY_DATETIME, MY_SERVER_TEXT, MY_TIMESTAMP, myInt } from "./mysql-canonical.js";
import { col, type DiffTable } from "./tables.js";

/** The differential tables of dates, times and zero dates (see mysql-tables.ts). */

export function times(): DiffTable {
  return {
    name: "times",
    columns: [
      col("c_date", "DATE", MY_DATE),
      col("c_datetime", "DATETIME", MY_DATETIME),
      col("c_datetime3", "DATETIME(3)", MY_DATETIME),
      col("c_datetime6", "DATETIME(6)", MY_DATETIME),
      col("c_ts", "TIMESTAMP NULL DEFAULT NULL", MY_TIMESTAMP),
      col("c_ts6", "TIMESTAMP(6) NULL DEFAULT NULL", MY_TIMESTAMP),
      col("c_time", "TIME", MY_SERVER_TEXT),
      col("c_time6", "TIME(6)", MY_SERVER_TEXT),
      col("c_year", "YEAR", myInt(/^SMALLINT$/)),
    ],
    // TIMESTAMP values are local times of the insert session (+05:30): 05:30:01 is 00:00:01 UTC, the least one.
    rows: [
      [
        "1000-01-01",
        "1000-01-01 00:00:00",
        "1000-01-01 00:00:00.001",
        "1000-01-01 00:00:00.000001",
        "1970-01-01 05:30:01",
        "1970-01-01 05:30:01.000000",
        "-838:59:59",
        "-838:59:59.000000",
        1901,
      ],
      [
        "9999-12-31",
        "9999-12-31 23:59:59",
        "9999-12-31 23:59:59.999",
        "9999-12-31 23:59:59.999999",
        "2038-01-19 08:44:07",
        "2038-01-19 08:44:07.999999",
        "838:59:59",
        "838:59:59.000000",
        2155,
      ],
      [
        "0001-01-01",
        "0001-01-01 00:00:00",
        "0999-12-31 23:59:59.999",
        "0100-02-28 12:00:00.5",
        "2000-02-29 12:00:00",
        "2000-02-29 05:29:59.999999",
        "00:00:00",
        "-00:00:00.000001",
        2000,
      ],
      [
        "2000-02-29",
        "1900-02-28 23:59:59",
        "1969-12-31 23:59:59.999",
        "1969-12-31 23:59:59.999999",
        "2024-03-31 02:30:00",
        "1999-12-31 23:59:59.123456",
        "23:59:59",
        "100:00:00.5",
        0,
      ],
      ["1970-01-01", null, null, "1970-01-01 00:00:00", null, null, "-00:00:01", "12:34:56.789012", null],
      Array(9).fill(null),
    ],
  };
}

/** Zero dates, zero parts and MariaDB's year 0 (365 days there, 366 in the proleptic calendar): never a wrong day. */
export function zeroDates(): DiffTable {
  const ok = ["2020-01-01", "2020-01-01 00:00:00", "2020-01-01 05:30:00"];
  const row = (i: number, v: string) => ok.map((x, k) => (k === i ? v : x));
  return {
    name: "zero_dates",
    columns: [
      col("c_date", "DATE", MY_DATE),
      col("c_datetime", "DATETIME(6)", MY_DATETIME),
      col("c_ts", "TIMESTAMP(6) NULL DEFAULT NULL", MY_TIMESTAMP),
    ],
    rows: [
      ok,
      row(0, "0000-00-00"),
      row(1, "0000-00-00 00:00:00"),
      row(2, "0000-00-00 00:00:00"),
      row(0, "2020-00-15"),
      row(0, "2020-02-00"),
      row(1, "2020-00-00 10:00:00"),
      row(0, "0000-01-01"),
      row(1, "0000-12-31 23:59:59.5"),
      [null, null, null],
    ],
    invalid: {
      2: /"c_date": "0000-00-00" is not a valid DATE/,
      3: /"c_datetime": "0000-00-00 00:00:00.000000" is not a valid TIMESTAMP/,
      // TIMESTAMP in a dump declaring no time zone (--skip-tz-utc).
      4: /"c_ts": "0000-00-00 00:00:00.000000" is not a valid TIMESTAMP(?:TZ)?;/,
      5: /"c_date": "2020-00-15" is not a valid DATE/,
      6: /"c_date": "2020-02-00" is not a valid DATE/,
      7: /"c_datetime": "2020-00-00 10:00:00.000000" is not a valid TIMESTAMP/,
      8: /"c_date": "0000-01-01" is not a valid DATE/,
      9: /"c_datetime": "0000-12-31 23:59:59.500000" is not a valid TIMESTAMP/,
    },
  };
}
