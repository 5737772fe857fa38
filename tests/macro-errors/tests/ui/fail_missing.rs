ssot::ssot!("no/such/schema.prisma");

fn main() {}
