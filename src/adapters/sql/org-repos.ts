import type { Kysely, Selectable } from "kysely";
import { conflict } from "../../ports/errors.ts";
import type { Attrs, Company, Department, DictEntry, License, OrgRepo, Role } from "../../ports/storage.ts";
import { mapErrors } from "./errors.ts";
import type { CompaniesTable, Database, DepartmentsTable, RolesTable } from "./schema.ts";

const num = (v: number | null) => (v === null ? null : Number(v));

function toCompany(r: Selectable<CompaniesTable>): Company {
  let attrs: Attrs = {};
  try {
    attrs = JSON.parse(r.attrs) as Attrs;
  } catch {
    // keep empty
  }
  return {
    id: Number(r.id),
    text: r.text,
    avatar: r.avatar,
    note: r.note,
    enable: r.enable === 1,
    licenseId: num(r.license_id),
    code: r.code,
    pid: r.pid,
    level: r.level,
    url: r.url,
    attrs,
    createdAt: Number(r.created_at),
  };
}

function toDept(r: Selectable<DepartmentsTable>): Department {
  return {
    id: Number(r.id),
    companyId: Number(r.company_id),
    parentId: num(r.parent_id),
    text: r.text,
    note: r.note,
    code: r.code,
    ownerId: num(r.owner_id),
    level: r.level,
    createdAt: Number(r.created_at),
  };
}

function toRole(r: Selectable<RolesTable>): Role {
  return { id: Number(r.id), companyId: Number(r.company_id), text: r.text, admin: r.admin === 1, note: r.note };
}

export class SqlOrg implements OrgRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async createCompany(c: Omit<Company, "id">): Promise<Company> {
    const row = await this.db
      .insertInto("companies")
      .values({
        text: c.text,
        avatar: c.avatar,
        note: c.note,
        enable: c.enable ? 1 : 0,
        license_id: c.licenseId,
        code: c.code,
        pid: c.pid,
        level: c.level,
        url: c.url,
        attrs: JSON.stringify(c.attrs),
        created_at: c.createdAt,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toCompany(row);
  }

  async createDepartment(d: Omit<Department, "id">): Promise<Department> {
    const row = await this.db
      .insertInto("departments")
      .values({
        company_id: d.companyId,
        parent_id: d.parentId,
        text: d.text,
        note: d.note,
        code: d.code,
        owner_id: d.ownerId,
        level: d.level,
        created_at: d.createdAt,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toDept(row);
  }

  async createRole(r: Omit<Role, "id">): Promise<Role> {
    const row = await this.db
      .insertInto("roles")
      .values({ company_id: r.companyId, text: r.text, admin: r.admin ? 1 : 0, note: r.note })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRole(row);
  }

  async createLicense(l: Omit<License, "id">): Promise<License> {
    const row = await this.db
      .insertInto("licenses")
      .values({ text: l.text, maxlevel: l.maxlevel, single: l.single, user_count: l.userCount })
      .returningAll()
      .executeTakeFirstOrThrow();
    return {
      id: Number(row.id),
      text: row.text,
      maxlevel: row.maxlevel,
      single: row.single,
      userCount: row.user_count,
    };
  }

  async createDict(d: Omit<DictEntry, "id">): Promise<DictEntry> {
    const row = await mapErrors(
      () => this.db.insertInto("dict_entries").values(d).returningAll().executeTakeFirstOrThrow(),
      () => conflict("dict_exists", "dictionary entry exists"),
    );
    return { ...row, id: Number(row.id) };
  }

  async company(id: number): Promise<Company | null> {
    const r = await this.db.selectFrom("companies").selectAll().where("id", "=", id).executeTakeFirst();
    return r ? toCompany(r) : null;
  }

  async department(id: number): Promise<Department | null> {
    const r = await this.db.selectFrom("departments").selectAll().where("id", "=", id).executeTakeFirst();
    return r ? toDept(r) : null;
  }

  async role(id: number): Promise<Role | null> {
    const r = await this.db.selectFrom("roles").selectAll().where("id", "=", id).executeTakeFirst();
    return r ? toRole(r) : null;
  }

  async license(id: number): Promise<License | null> {
    const r = await this.db.selectFrom("licenses").selectAll().where("id", "=", id).executeTakeFirst();
    return r
      ? { id: Number(r.id), text: r.text, maxlevel: r.maxlevel, single: r.single, userCount: r.user_count }
      : null;
  }

  async companies(): Promise<Company[]> {
    return (await this.db.selectFrom("companies").selectAll().orderBy("id").execute()).map(toCompany);
  }

  async departments(companyId: number): Promise<Department[]> {
    const rows = await this.db
      .selectFrom("departments")
      .selectAll()
      .where("company_id", "=", companyId)
      .orderBy("id")
      .execute();
    return rows.map(toDept);
  }

  async roles(companyId: number | null): Promise<Role[]> {
    let q = this.db.selectFrom("roles").selectAll();
    if (companyId !== null) q = q.where("company_id", "=", companyId);
    return (await q.orderBy("id").execute()).map(toRole);
  }

  async licenses(): Promise<License[]> {
    const rows = await this.db.selectFrom("licenses").selectAll().orderBy("id").execute();
    return rows.map((r) => ({
      id: Number(r.id),
      text: r.text,
      maxlevel: r.maxlevel,
      single: r.single,
      userCount: r.user_count,
    }));
  }

  async dict(type: string): Promise<DictEntry[]> {
    const rows = await this.db.selectFrom("dict_entries").selectAll().where("type", "=", type).orderBy("id").execute();
    return rows.map((r) => ({ ...r, id: Number(r.id) }));
  }

  async departmentUserCounts(companyId: number): Promise<Map<number, number>> {
    const rows = await this.db
      .selectFrom("users")
      .select(["dept_id", (eb) => eb.fn.countAll<number>().as("n")])
      .where("company_id", "=", companyId)
      .where("dept_id", "is not", null)
      .groupBy("dept_id")
      .execute();
    return new Map(rows.map((r) => [Number(r.dept_id), Number(r.n)]));
  }
}
