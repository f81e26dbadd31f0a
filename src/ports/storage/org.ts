/** Organisation directory (enterprise surface): companies, departments, roles, licenses, dictionaries. */

/** Extra documented fields of an org entity that Parley stores but does not interpret. */
export type Attrs = { [key: string]: string | number | boolean | null };

export interface Company {
  id: number;
  text: string;
  avatar: string;
  note: string;
  enable: boolean;
  licenseId: number | null;
  code: string;
  /** Parent company id ("pid"), as text like the original. */
  pid: string;
  level: number;
  url: string;
  attrs: Attrs;
  createdAt: number;
}

export interface Department {
  id: number;
  companyId: number;
  /** Parent department id; null for a root department. */
  parentId: number | null;
  text: string;
  note: string;
  code: string;
  ownerId: number | null;
  level: number;
  createdAt: number;
}

export interface Role {
  id: number;
  companyId: number;
  text: string;
  admin: boolean;
  note: string;
}

export interface License {
  id: number;
  text: string;
  maxlevel: number;
  single: number;
  userCount: number;
}

export interface DictEntry {
  id: number;
  type: string;
  text: string;
  code: string;
  url: string | null;
}

/** Fields of a company that can be changed (`id` and `createdAt` stay). */
export type CompanyPatch = Partial<Omit<Company, "id" | "createdAt">>;
/** Fields of a department that can be changed; the company stays (users' departments must be of their company). */
export type DepartmentPatch = Partial<Pick<Department, "parentId" | "text" | "note" | "code" | "ownerId" | "level">>;
/** Fields of a role that can be changed; the company stays. */
export type RolePatch = Partial<Pick<Role, "text" | "admin" | "note">>;
export type LicensePatch = Partial<Omit<License, "id">>;

/**
 * What still refers to an org entity, counted when a delete is refused (see the `delete…` methods):
 * users placed in it, departments / roles of a company, sub-departments, child companies (`pid`),
 * companies holding a license.
 */
export interface OrgReferences {
  users: number;
  departments: number;
  roles: number;
  companies: number;
}

/** A delete's outcome: done, nothing to delete, or refused because something still refers to it. */
export type OrgDelete = { deleted: true } | { deleted: false; missing: true } | { deleted: false; refs: OrgReferences };

export interface OrgRepo {
  createCompany(c: Omit<Company, "id">): Promise<Company>;
  createDepartment(d: Omit<Department, "id">): Promise<Department>;
  createRole(r: Omit<Role, "id">): Promise<Role>;
  createLicense(l: Omit<License, "id">): Promise<License>;
  createDict(d: Omit<DictEntry, "id">): Promise<DictEntry>;
  company(id: number): Promise<Company | null>;
  department(id: number): Promise<Department | null>;
  role(id: number): Promise<Role | null>;
  license(id: number): Promise<License | null>;
  companies(): Promise<Company[]>;
  departments(companyId: number): Promise<Department[]>;
  roles(companyId: number | null): Promise<Role[]>;
  licenses(): Promise<License[]>;
  dict(type: string): Promise<DictEntry[]>;
  /** Changes a company; null when it does not exist. */
  updateCompany(id: number, patch: CompanyPatch): Promise<Company | null>;
  /**
   * Changes a department and, in the same transaction, sets `level` of the departments in
   * `relevel` (its subtree, when it moved); null when it does not exist.
   */
  updateDepartment(
    id: number,
    patch: DepartmentPatch,
    relevel: ReadonlyArray<[number, number]>,
  ): Promise<Department | null>;
  updateRole(id: number, patch: RolePatch): Promise<Role | null>;
  updateLicense(id: number, patch: LicensePatch): Promise<License | null>;
  /**
   * Deletes a company only if nothing refers to it (users, departments, roles, child companies),
   * checked and deleted in one transaction.
   */
  deleteCompany(id: number): Promise<OrgDelete>;
  /** Deletes a department only if it has no users and no sub-departments. */
  deleteDepartment(id: number): Promise<OrgDelete>;
  /** Deletes a role only if no user holds it. */
  deleteRole(id: number): Promise<OrgDelete>;
  /** Deletes a license only if no company holds it. */
  deleteLicense(id: number): Promise<OrgDelete>;
  /** Users per department of a company (for `userCount`). */
  departmentUserCounts(companyId: number): Promise<Map<number, number>>;
}
