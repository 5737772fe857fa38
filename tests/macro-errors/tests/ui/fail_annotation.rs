ssot::ssot!("tests/ui/bad_annotation.prisma");

fn main() {}
