import type {
  Attrs,
  Company,
  CompanyPatch,
  Department,
  DictEntry,
  License,
  LicensePatch,
  OrgDelete,
  OrgReferences,
  Repos,
  Role,
  RolePatch,
} from "../../ports/storage.ts";
import { conflict, invalid, notFound } from "../errors.ts";

/** "3 users, 1 sub-department" — what still refers to an entity whose delete was refused. */
function describeRefs(r: OrgReferences, departments = "departments"): string {
  const parts: string[] = [];
  const n = (count: number, one: string, many: string) => {
    if (count > 0) parts.push(`${count} ${count === 1 ? one : many}`);
  };
  n(r.users, "user", "users");
  n(r.departments, departments.replace(/s$/, ""), departments);
  n(r.roles, "role", "roles");
  n(r.companies, "company", "companies");
  return parts.join(", ");
}

/**
 * The organisation directory behind the enterprise surface: companies, a department tree per
 * company, roles, licenses and small dictionaries (e.g. `sex`). Writes check references.
 */
export class OrgService {
  constructor(private readonly storage: Pick<Repos, "org">) {}

  async createLicense(l: Omit<License, "id">): Promise<License> {
    return this.storage.org.createLicense(l);
  }

  async createCompany(c: {
    text: string;
    avatar?: string;
    note?: string;
    enable?: boolean;
    licenseId?: number | null;
    code?: string;
    pid?: string;
    level?: number;
    url?: string;
    attrs?: Attrs;
  }): Promise<Company> {
    if (c.licenseId != null && !(await this.storage.org.license(c.licenseId)))
      throw invalid("bad_license", "unknown licenseId");
    return this.storage.org.createCompany({
      text: c.text,
      avatar: c.avatar ?? "",
      note: c.note ?? "",
      enable: c.enable ?? true,
      licenseId: c.licenseId ?? null,
      code: c.code ?? "",
      pid: c.pid ?? "",
      level: c.level ?? 1,
      url: c.url ?? "",
      attrs: c.attrs ?? {},
      createdAt: Date.now(),
    });
  }

  async createDepartment(d: {
    companyId: number;
    parentId?: number | null;
    text: string;
    note?: string;
    code?: string;
    ownerId?: number | null;
  }): Promise<Department> {
    if (!(await this.storage.org.company(d.companyId))) throw invalid("bad_company", "unknown companyId");
    let level = 1;
    if (d.parentId != null) {
      const parent = await this.storage.org.department(d.parentId);
      if (!parent || parent.companyId !== d.companyId)
        throw invalid("bad_department", "parent must be a department of the same company");
      level = parent.level + 1;
    }
    return this.storage.org.createDepartment({
      companyId: d.companyId,
      parentId: d.parentId ?? null,
      text: d.text,
      note: d.note ?? "",
      code: d.code ?? "",
      ownerId: d.ownerId ?? null,
      level,
      createdAt: Date.now(),
    });
  }

  async createRole(r: { companyId: number; text: string; admin?: boolean; note?: string }): Promise<Role> {
    if (!(await this.storage.org.company(r.companyId))) throw invalid("bad_company", "unknown companyId");
    return this.storage.org.createRole({
      companyId: r.companyId,
      text: r.text,
      admin: r.admin ?? false,
      note: r.note ?? "",
    });
  }

  /**
   * Changes a company. `licenseId` must exist (or be null); `pid` (the parent company, as text)
   * must be empty or an existing company that is neither this one nor below it.
   */
  async updateCompany(id: number, p: CompanyPatch): Promise<Company> {
    const existing = await this.storage.org.company(id);
    if (!existing) throw notFound("company_not_found", "company does not exist");
    if (p.licenseId != null && !(await this.storage.org.license(p.licenseId)))
      throw invalid("bad_license", "unknown licenseId");
    if (p.pid) {
      // walk up from the new parent: reaching this company would make a cycle
      const seen = new Set<number>();
      // (only the new parent must exist: an older chain may name companies that are gone)
      for (let at = p.pid; /^[1-9][0-9]{0,14}$/.test(at); ) {
        const cid = Number(at);
        if (cid === id) throw invalid("bad_company", "pid: a company cannot be its own parent or below itself");
        if (seen.has(cid)) break;
        seen.add(cid);
        const up = await this.storage.org.company(cid);
        if (!up) {
          if (seen.size === 1) throw invalid("bad_company", "pid: unknown parent company");
          break;
        }
        at = up.pid;
      }
    }
    const attrs = p.attrs === undefined ? undefined : { ...existing.attrs, ...p.attrs };
    return (await this.storage.org.updateCompany(id, { ...p, attrs })) ?? this.gone("company");
  }

  /**
   * Changes a department of its company (the company stays). A new `parentId` must be a
   * department of the same company outside this one's subtree (null: a root); the department's
   * and its subtree's `level` follow. `ownerId` is checked by the caller (a user).
   */
  async updateDepartment(
    id: number,
    p: { parentId?: number | null; text?: string; note?: string; code?: string; ownerId?: number | null },
  ): Promise<Department> {
    const existing = await this.storage.org.department(id);
    if (!existing) throw notFound("department_not_found", "department does not exist");
    if (p.parentId === undefined || p.parentId === existing.parentId)
      return (
        (await this.storage.org.updateDepartment(id, { ...p, parentId: undefined }, [])) ?? this.gone("department")
      );
    const all = await this.storage.org.departments(existing.companyId);
    const kids = new Map<number, number[]>();
    for (const d of all) if (d.parentId !== null) kids.set(d.parentId, [...(kids.get(d.parentId) ?? []), d.id]);
    const below = new Set<number>();
    const walk = (at: number) => {
      for (const k of kids.get(at) ?? []) {
        if (below.has(k)) continue;
        below.add(k);
        walk(k);
      }
    };
    walk(id);
    let level = 1;
    if (p.parentId !== null) {
      const parent = all.find((d) => d.id === p.parentId);
      if (!parent) throw invalid("bad_department", "parent must be a department of the same company");
      if (parent.id === id || below.has(parent.id))
        throw invalid("bad_department", "parent cannot be the department itself or one of its sub-departments");
      level = parent.level + 1;
    }
    const delta = level - existing.level;
    const relevel: Array<[number, number]> = all.filter((d) => below.has(d.id)).map((d) => [d.id, d.level + delta]);
    return (await this.storage.org.updateDepartment(id, { ...p, level }, relevel)) ?? this.gone("department");
  }

  async updateRole(id: number, p: RolePatch): Promise<Role> {
    if (!(await this.storage.org.role(id))) throw notFound("role_not_found", "role does not exist");
    return (await this.storage.org.updateRole(id, p)) ?? this.gone("role");
  }

  async updateLicense(id: number, p: LicensePatch): Promise<License> {
    if (!(await this.storage.org.license(id))) throw notFound("license_not_found", "license does not exist");
    return (await this.storage.org.updateLicense(id, p)) ?? this.gone("license");
  }

  /**
   * Deleting never leaves orphans (docs/admin.md "Deleting"): a company goes only once it has no
   * users, departments, roles or child companies; a department once it has no users and no
   * sub-departments; a role once no user holds it; a license once no company holds it. Otherwise
   * 409 with what is still there, so the operator moves or removes that first.
   */
  async deleteCompany(id: number): Promise<void> {
    this.deleted(await this.storage.org.deleteCompany(id), "company", "company_in_use");
  }

  async deleteDepartment(id: number): Promise<void> {
    this.deleted(await this.storage.org.deleteDepartment(id), "department", "department_in_use", "sub-departments");
  }

  async deleteRole(id: number): Promise<void> {
    this.deleted(await this.storage.org.deleteRole(id), "role", "role_in_use");
  }

  async deleteLicense(id: number): Promise<void> {
    this.deleted(await this.storage.org.deleteLicense(id), "license", "license_in_use");
  }

  private deleted(
    r: OrgDelete,
    what: "company" | "department" | "role" | "license",
    inUse: "company_in_use" | "department_in_use" | "role_in_use" | "license_in_use",
    departments?: string,
  ): void {
    if (r.deleted) return;
    if ("missing" in r) this.gone(what);
    else throw conflict(inUse, `${what} still has ${describeRefs(r.refs, departments)}: move or delete them first`);
  }

  /** The entity vanished (or never was): its not-found error. */
  private gone(what: "company" | "department" | "role" | "license"): never {
    throw notFound(`${what}_not_found`, `${what} does not exist`);
  }

  async createDict(d: Omit<DictEntry, "id">): Promise<DictEntry> {
    return this.storage.org.createDict(d);
  }

  company(id: number): Promise<Company | null> {
    return this.storage.org.company(id);
  }

  department(id: number): Promise<Department | null> {
    return this.storage.org.department(id);
  }

  role(id: number): Promise<Role | null> {
    return this.storage.org.role(id);
  }

  license(id: number): Promise<License | null> {
    return this.storage.org.license(id);
  }

  companies(): Promise<Company[]> {
    return this.storage.org.companies();
  }

  departments(companyId: number): Promise<Department[]> {
    return this.storage.org.departments(companyId);
  }

  /** Users per department of a company. */
  departmentUserCounts(companyId: number): Promise<Map<number, number>> {
    return this.storage.org.departmentUserCounts(companyId);
  }

  /** A company's roles (every role when null). */
  roles(companyId: number | null): Promise<Role[]> {
    return this.storage.org.roles(companyId);
  }

  licenses(): Promise<License[]> {
    return this.storage.org.licenses();
  }

  dict(type: string): Promise<DictEntry[]> {
    return this.storage.org.dict(type);
  }

  /** The dictionary entry for a user's sex (type `sex`, code "0"/"1"/"2"). */
  async sexEntry(sex: number): Promise<DictEntry | null> {
    return (await this.storage.org.dict("sex")).find((e) => e.code === String(sex)) ?? null;
  }
}
