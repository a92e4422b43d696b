; JavaScript only: the heritage is a bare expression.
(class_heritage [(identifier) (member_expression)] @reference.inherits)
(field_definition
  property: (_) @name
  value: [(arrow_function) (function_expression)]) @definition.method
