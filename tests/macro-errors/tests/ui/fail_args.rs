ssot::ssot!(schema.prisma);
ssot::include_ssot!("schema.prisma");

fn main() {}
