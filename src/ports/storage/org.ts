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
  /** Users per department of a company (for `userCount`). */
  departmentUserCounts(companyId: number): Promise<Map<number, number>>;
}
