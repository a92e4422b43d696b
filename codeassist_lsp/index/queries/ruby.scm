(class name: (_) @name) @definition.class
(module name: (_) @name) @definition.module
(method name: (_) @name) @definition.function
(singleton_method name: (_) @name) @definition.function

(call method: (_)) @reference.call
(superclass (_) @reference.inherits)

(call
  method: (identifier) @_fn
  arguments: (argument_list . (string))
  (#match? @_fn "^(require|require_relative|load)$")) @import
