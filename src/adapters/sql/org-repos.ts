import type { Kysely, Selectable, Updateable } from "kysely";
import { conflict } from "../../ports/errors.ts";
import type {
  Attrs,
  Company,
  CompanyPatch,
  Department,
  DepartmentPatch,
  DictEntry,
  License,
  LicensePatch,
  OrgDelete,
  OrgReferences,
  OrgRepo,
  Role,
  RolePatch,
  StorageKind,
} from "../../ports/storage.ts";
import { atomic } from "./atomic.ts";
import { mapErrors } from "./errors.ts";
import type { CompaniesTable, Database, DepartmentsTable, LicensesTable, RolesTable } from "./schema.ts";

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

function toLicense(r: Selectable<LicensesTable>): License {
  return { id: Number(r.id), text: r.text, maxlevel: r.maxlevel, single: r.single, userCount: r.user_count };
}

const NO_REFS: OrgReferences = { users: 0, departments: 0, roles: 0, companies: 0 };
const anyRefs = (r: OrgReferences) => r.users + r.departments + r.roles + r.companies > 0;

function toRole(r: Selectable<RolesTable>): Role {
  return { id: Number(r.id), companyId: Number(r.company_id), text: r.text, admin: r.admin === 1, note: r.note };
}

export class SqlOrg implements OrgRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly kind: StorageKind,
  ) {}

  /** Rows counted by `where` in `table` (inside the delete's transaction). */
  private async count(
    tx: Kysely<Database>,
    table: "users" | "departments" | "roles" | "companies",
    where: Array<[string, unknown]>,
  ): Promise<number> {
    // biome-ignore lint/suspicious/noExplicitAny: the column names are this file's own literals
    let q: any = tx.selectFrom(table).select((eb) => eb.fn.countAll<number>().as("n"));
    for (const [col, v] of where) q = q.where(col, "=", v);
    return Number((await q.executeTakeFirstOrThrow()).n);
  }

  /**
   * The one shape of every delete: lock the row (PostgreSQL `FOR UPDATE`; SQLite has one writer),
   * count what refers to it, and delete it only when nothing does — all in one transaction.
   */
  private remove(
    table: "companies" | "departments" | "roles" | "licenses",
    id: number,
    refs: (tx: Kysely<Database>, row: { company_id?: number }) => Promise<OrgReferences>,
  ): Promise<OrgDelete> {
    return atomic(this.db, async (tx) => {
      // biome-ignore lint/suspicious/noExplicitAny: four tables of the same key shape
      let q: any = tx.selectFrom(table).selectAll().where("id", "=", id);
      if (this.kind === "postgres") q = q.forUpdate();
      const row = await q.executeTakeFirst();
      if (!row) return { deleted: false, missing: true } as const;
      const found = await refs(tx, row);
      if (anyRefs(found)) return { deleted: false, refs: found } as const;
      await tx.deleteFrom(table).where("id", "=", id).execute();
      return { deleted: true } as const;
    });
  }

  async updateCompany(id: number, p: CompanyPatch): Promise<Company | null> {
    const set: Updateable<CompaniesTable> = {};
    if (p.text !== undefined) set.text = p.text;
    if (p.avatar !== undefined) set.avatar = p.avatar;
    if (p.note !== undefined) set.note = p.note;
    if (p.enable !== undefined) set.enable = p.enable ? 1 : 0;
    if (p.licenseId !== undefined) set.license_id = p.licenseId;
    if (p.code !== undefined) set.code = p.code;
    if (p.pid !== undefined) set.pid = p.pid;
    if (p.level !== undefined) set.level = p.level;
    if (p.url !== undefined) set.url = p.url;
    if (p.attrs !== undefined) set.attrs = JSON.stringify(p.attrs);
    if (Object.keys(set).length === 0) return this.company(id);
    const row = await this.db.updateTable("companies").set(set).where("id", "=", id).returningAll().executeTakeFirst();
    return row ? toCompany(row) : null;
  }

  async updateDepartment(
    id: number,
    p: DepartmentPatch,
    relevel: ReadonlyArray<[number, number]>,
  ): Promise<Department | null> {
    const set: Updateable<DepartmentsTable> = {};
    if (p.parentId !== undefined) set.parent_id = p.parentId;
    if (p.text !== undefined) set.text = p.text;
    if (p.note !== undefined) set.note = p.note;
    if (p.code !== undefined) set.code = p.code;
    if (p.ownerId !== undefined) set.owner_id = p.ownerId;
    if (p.level !== undefined) set.level = p.level;
    return atomic(this.db, async (tx) => {
      const row =
        Object.keys(set).length === 0
          ? await tx.selectFrom("departments").selectAll().where("id", "=", id).executeTakeFirst()
          : await tx.updateTable("departments").set(set).where("id", "=", id).returningAll().executeTakeFirst();
      if (!row) return null;
      for (const [dept, level] of relevel)
        await tx.updateTable("departments").set({ level }).where("id", "=", dept).execute();
      return toDept(row);
    });
  }

  async updateRole(id: number, p: RolePatch): Promise<Role | null> {
    const set: Updateable<RolesTable> = {};
    if (p.text !== undefined) set.text = p.text;
    if (p.admin !== undefined) set.admin = p.admin ? 1 : 0;
    if (p.note !== undefined) set.note = p.note;
    if (Object.keys(set).length === 0) return this.role(id);
    const row = await this.db.updateTable("roles").set(set).where("id", "=", id).returningAll().executeTakeFirst();
    return row ? toRole(row) : null;
  }

  async updateLicense(id: number, p: LicensePatch): Promise<License | null> {
    const set: Updateable<LicensesTable> = {};
    if (p.text !== undefined) set.text = p.text;
    if (p.maxlevel !== undefined) set.maxlevel = p.maxlevel;
    if (p.single !== undefined) set.single = p.single;
    if (p.userCount !== undefined) set.user_count = p.userCount;
    if (Object.keys(set).length === 0) return this.license(id);
    const row = await this.db.updateTable("licenses").set(set).where("id", "=", id).returningAll().executeTakeFirst();
    return row ? toLicense(row) : null;
  }

  deleteCompany(id: number): Promise<OrgDelete> {
    return this.remove("companies", id, async (tx) => ({
      users: await this.count(tx, "users", [["company_id", id]]),
      departments: await this.count(tx, "departments", [["company_id", id]]),
      roles: await this.count(tx, "roles", [["company_id", id]]),
      companies: await this.count(tx, "companies", [["pid", String(id)]]),
    }));
  }

  deleteDepartment(id: number): Promise<OrgDelete> {
    return this.remove("departments", id, async (tx, row) => ({
      ...NO_REFS,
      users: await this.count(tx, "users", [
        ["company_id", row.company_id],
        ["dept_id", id],
      ]),
      departments: await this.count(tx, "departments", [
        ["company_id", row.company_id],
        ["parent_id", id],
      ]),
    }));
  }

  deleteRole(id: number): Promise<OrgDelete> {
    return this.remove("roles", id, async (tx, row) => ({
      ...NO_REFS,
      users: await this.count(tx, "users", [
        ["company_id", row.company_id],
        ["role_id", id],
      ]),
    }));
  }

  deleteLicense(id: number): Promise<OrgDelete> {
    return this.remove("licenses", id, async (tx) => ({
      ...NO_REFS,
      companies: await this.count(tx, "companies", [["license_id", id]]),
    }));
  }

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
    return toLicense(row);
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
    return r ? toLicense(r) : null;
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
    return rows.map(toLicense);
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
