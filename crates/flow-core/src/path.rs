//! The path language: picks a part of a JSON value (`products[1].category`, `products.flatMap(item => item.title)`, `$..x`).
