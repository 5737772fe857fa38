ssot::ssot!("tests/ui/bad_prisma.prisma");

fn main() {}
