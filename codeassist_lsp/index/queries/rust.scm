(function_item name: (identifier) @name) @definition.function
(function_signature_item name: (identifier) @name) @definition.function
(struct_item name: (type_identifier) @name) @definition.struct
(union_item name: (type_identifier) @name) @definition.struct
(enum_item name: (type_identifier) @name) @definition.enum
(trait_item name: (type_identifier) @name) @definition.trait
(type_item name: (type_identifier) @name) @definition.type
(const_item name: (identifier) @name) @definition.constant
(static_item name: (identifier) @name) @definition.constant
(macro_definition name: (identifier) @name) @definition.function
(mod_item name: (identifier) @name body: (declaration_list)) @definition.module
(impl_item
  type: [
    (type_identifier) @name
    (generic_type type: (type_identifier) @name)
    (scoped_type_identifier name: (type_identifier) @name)
  ]) @scope.impl

(call_expression function: (_) @reference.call)
(struct_expression name: (_) @reference.type)
(impl_item trait: (_) @reference.inherits)
(trait_item bounds: (trait_bounds [(type_identifier) (scoped_type_identifier)] @reference.inherits))
(generic_type type: (type_identifier) @reference.type)
(parameter type: (type_identifier) @reference.type)
(parameter type: (reference_type type: (type_identifier) @reference.type))
(function_item return_type: (type_identifier) @reference.type)
(field_declaration type: (type_identifier) @reference.type)

(use_declaration) @import
(mod_item name: (identifier) !body) @import
