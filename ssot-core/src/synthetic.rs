//! The synthetic schemas of the benchmarks and of the compile tests of large schemas.

use std::fmt::Write as _;

/// A schema with `n` models in a ring (`M0 → M1 → … → M{n-1} → M0`): scalars of every type, an
/// enum, a to-one relation to the previous model and a to-many one to the next, policies and
/// validation rules.
pub fn schema(n: usize) -> String {
    let mut s = String::from("datasource db {\n  provider = \"postgresql\"\n}\n\nenum Status {\n  DRAFT\n  LIVE\n  GONE\n}\n\n");
    for i in 0..n {
        let prev = if i > 0 { i - 1 } else { n - 1 };
        let next = (i + 1) % n;
        writeln!(s, "/// Model number {i}.").unwrap();
        writeln!(s, "/// @@policy(read: \"status == LIVE || ownerId == auth.id\", create: \"auth != null\", update: \"ownerId == auth.id\", delete: \"auth.role == 'admin'\")").unwrap();
        writeln!(s, "model M{i} {{").unwrap();
        writeln!(s, "  id        Int      @id @default(autoincrement())").unwrap();
        writeln!(s, "  /// @validate(minLength: 1, maxLength: 200)\n  title     String").unwrap();
        writeln!(s, "  /// @validate(email)\n  email     String   @unique").unwrap();
        writeln!(s, "  body      String?").unwrap();
        writeln!(s, "  /// @validate(min: 0)\n  count     Int      @default(0)").unwrap();
        writeln!(s, "  big       BigInt?").unwrap();
        writeln!(s, "  ratio     Float?").unwrap();
        writeln!(s, "  price     Decimal  @db.Decimal(10, 2)").unwrap();
        writeln!(s, "  flag      Boolean  @default(false)").unwrap();
        writeln!(s, "  status    Status   @default(DRAFT)").unwrap();
        writeln!(s, "  meta      Json?").unwrap();
        writeln!(s, "  tags      String[]").unwrap();
        writeln!(s, "  /// @hidden\n  ownerId   String").unwrap();
        writeln!(s, "  createdAt DateTime @default(now())").unwrap();
        writeln!(s, "  updatedAt DateTime @updatedAt").unwrap();
        writeln!(s, "  prev      M{prev}?     @relation(\"r{i}\", fields: [prevId], references: [id])").unwrap();
        writeln!(s, "  prevId    Int?").unwrap();
        writeln!(s, "  nexts     M{next}[]    @relation(\"r{next}\")").unwrap();
        writeln!(s, "}}\n").unwrap();
    }
    s
}
