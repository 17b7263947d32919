//! Model architectures: parameter counts (total and active), layer shapes, the attention kind
//! (MHA, GQA, MQA, MLA) with the dimensions the KV cache depends on, sliding-window layers, the
//! mixture-of-experts layout, native weight precision and training tokens.
//!
//! Field meanings follow the public configs (Hugging Face `config.json` names in brackets) so a
//! reader can check a figure against its model card; see FACTS.md §3a for the values.

/// The attention mechanism, with the dimensions that set KV-cache size and attention FLOPs.
#[derive(Debug, Clone, PartialEq)]
pub enum Attention {
    /// Multi-head attention: one K and one V head per query head.
    Mha {
        /// Query heads (= KV heads) [`num_attention_heads`].
        heads: u32,
        /// Dimension of each head [`head_dim`].
        head_dim: u32,
    },
    /// Grouped-query attention: `kv_heads` K/V heads shared by groups of query heads.
    Gqa {
        /// Query heads [`num_attention_heads`].
        heads: u32,
        /// K/V heads [`num_key_value_heads`].
        kv_heads: u32,
        /// Dimension of each head [`head_dim`].
        head_dim: u32,
    },
    /// Multi-query attention: one K/V head shared by all query heads (Shazeer 2019; PaLM).
    Mqa {
        /// Query heads.
        heads: u32,
        /// Dimension of each head.
        head_dim: u32,
    },
    /// Multi-head latent attention (DeepSeek-V2/V3, Kimi K2): the cache holds one compressed
    /// latent of `kv_lora_rank` values plus one shared RoPE key of `qk_rope_head_dim` per layer.
    Mla {
        /// Query heads [`num_attention_heads`].
        heads: u32,
        /// Latent KV dimension [`kv_lora_rank`] (512 for DeepSeek-V3).
        kv_lora_rank: u32,
        /// Decoupled RoPE key dimension [`qk_rope_head_dim`] (64).
        qk_rope_head_dim: u32,
        /// Non-RoPE part of each query/key head [`qk_nope_head_dim`] (128).
        qk_nope_head_dim: u32,
        /// Value head dimension [`v_head_dim`] (128).
        v_head_dim: u32,
    },
}

/// The attention kind without its dimensions, for display and tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttentionKind {
    /// Multi-head attention.
    Mha,
    /// Grouped-query attention.
    Gqa,
    /// Multi-query attention.
    Mqa,
    /// Multi-head latent attention.
    Mla,
}

impl Attention {
    /// Which kind of attention this is.
    pub fn kind(&self) -> AttentionKind {
        match self {
            Attention::Mha { .. } => AttentionKind::Mha,
            Attention::Gqa { .. } => AttentionKind::Gqa,
            Attention::Mqa { .. } => AttentionKind::Mqa,
            Attention::Mla { .. } => AttentionKind::Mla,
        }
    }

    /// Query heads.
    pub fn heads(&self) -> u32 {
        match *self {
            Attention::Mha { heads, .. }
            | Attention::Gqa { heads, .. }
            | Attention::Mqa { heads, .. }
            | Attention::Mla { heads, .. } => heads,
        }
    }

    /// K/V heads: `heads` for MHA, `kv_heads` for GQA, 1 for MQA, `None` for MLA (whose cache
    /// is a latent, not per-head K/V).
    pub fn kv_heads(&self) -> Option<u32> {
        match *self {
            Attention::Mha { heads, .. } => Some(heads),
            Attention::Gqa { kv_heads, .. } => Some(kv_heads),
            Attention::Mqa { .. } => Some(1),
            Attention::Mla { .. } => None,
        }
    }

    /// Values cached per token per layer: `2·kv_heads·head_dim` (K and V) for MHA/GQA/MQA,
    /// `kv_lora_rank + qk_rope_head_dim` for MLA (FACTS.md §3b).
    pub fn cached_values_per_layer(&self) -> u32 {
        match *self {
            Attention::Mha { heads, head_dim } => 2 * heads * head_dim,
            Attention::Gqa {
                kv_heads, head_dim, ..
            } => 2 * kv_heads * head_dim,
            Attention::Mqa { head_dim, .. } => 2 * head_dim,
            Attention::Mla {
                kv_lora_rank,
                qk_rope_head_dim,
                ..
            } => kv_lora_rank + qk_rope_head_dim,
        }
    }

    /// Per-head query·key dimension (MLA: nope + rope = 192 for DeepSeek-V3).
    pub fn qk_head_dim(&self) -> u32 {
        match *self {
            Attention::Mha { head_dim, .. }
            | Attention::Gqa { head_dim, .. }
            | Attention::Mqa { head_dim, .. } => head_dim,
            Attention::Mla {
                qk_rope_head_dim,
                qk_nope_head_dim,
                ..
            } => qk_rope_head_dim + qk_nope_head_dim,
        }
    }

    /// Per-head value dimension.
    pub fn v_head_dim(&self) -> u32 {
        match *self {
            Attention::Mha { head_dim, .. }
            | Attention::Gqa { head_dim, .. }
            | Attention::Mqa { head_dim, .. } => head_dim,
            Attention::Mla { v_head_dim, .. } => v_head_dim,
        }
    }
}

/// Layers that attend only to the last `window` tokens (gpt-oss: 18 of 36 layers, window 128).
#[derive(Debug, Clone, PartialEq)]
pub struct SlidingWindow {
    /// Tokens each sliding layer attends to.
    pub window: u32,
    /// How many of the model's layers use the window (the rest are global).
    pub layers: u32,
}

/// The mixture-of-experts layout of a model.
#[derive(Debug, Clone, PartialEq)]
pub struct Moe {
    /// Routed experts per MoE layer, E [`n_routed_experts`].
    pub routed: u32,
    /// Routed experts chosen per token, k [`num_experts_per_tok`].
    pub active: u32,
    /// Always-on shared experts per MoE layer [`n_shared_experts`].
    pub shared: u32,
    /// Layers that are MoE (DeepSeek-V3: 61 − 3 dense = 58).
    pub moe_layers: u32,
    /// Hidden size of one expert's FFN [`moe_intermediate_size`].
    pub expert_ffn: u32,
}

impl Moe {
    /// Parameters of one routed expert in one layer: `3·d·f` (SwiGLU gate, up and down
    /// projections; biases ignored). DeepSeek-V3: 3·7168·2048 = 44,040,192.
    pub fn params_per_expert(&self, hidden: u32) -> f64 {
        3.0 * f64::from(hidden) * f64::from(self.expert_ffn)
    }

    /// Parameters in all routed experts of all MoE layers: `moe_layers·E·3·d·f`
    /// (DeepSeek-V3: 58·256·44.04M = 653.9B, CLAIMS.md C4).
    pub fn routed_params(&self, hidden: u32) -> f64 {
        f64::from(self.moe_layers) * f64::from(self.routed) * self.params_per_expert(hidden)
    }
}

/// A language model, as far as serving and training arithmetic needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Display name.
    pub name: String,
    /// Total parameters N_tot (counts, not bytes).
    pub params_total: f64,
    /// Parameters used per token N_act (equal to `params_total` for dense models).
    pub params_active: f64,
    /// Transformer layers [`num_hidden_layers`] (without MTP modules).
    pub layers: u32,
    /// Model width d [`hidden_size`].
    pub hidden: u32,
    /// Attention kind and dimensions.
    pub attention: Attention,
    /// Sliding-window layers, if any.
    pub sliding_window: Option<SlidingWindow>,
    /// Mixture-of-experts layout, `None` for dense models.
    pub moe: Option<Moe>,
    /// Bytes per weight in the native release (FP8 = 1, BF16 = 2, MXFP4 ≈ 0.53).
    pub weight_bytes: f64,
    /// Pre-training tokens D, where disclosed.
    pub training_tokens: Option<f64>,
}

impl Model {
    /// Sparsity in the talk's sense, S = N_tot/N_act ≥ 1 (CLAIMS.md §1.1).
    pub fn sparsity(&self) -> f64 {
        crate::engine::moe::sparsity(self.params_total, self.params_active)
    }

    /// Parameters in routed experts (0 for a dense model).
    pub fn routed_expert_params(&self) -> f64 {
        self.moe
            .as_ref()
            .map_or(0.0, |moe| moe.routed_params(self.hidden))
    }

    /// Parameters every step must read whatever the routing: `N_tot − routed experts`
    /// (attention, dense FFNs, shared experts, embeddings, routers). DeepSeek-V3: 671B − 653.9B = 17.1B.
    pub fn always_read_params(&self) -> f64 {
        self.params_total - self.routed_expert_params()
    }

    /// Layers with global (full-context) attention: all layers minus sliding-window ones.
    pub fn global_layers(&self) -> u32 {
        self.layers - self.sliding_window.as_ref().map_or(0, |w| w.layers)
    }
}
