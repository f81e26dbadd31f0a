import type { Attrs, Company, Department, DictEntry, License, Repos, Role } from "../../ports/storage.ts";
import { invalid } from "../errors.ts";

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
