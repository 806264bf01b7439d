//! The element types a tensor can hold: `f32` and `f64`.

use core::fmt::{Debug, Display, LowerExp};

use num_traits::{Float, FromPrimitive, NumAssign};
use rand_distr::{Distribution, StandardNormal, uniform::SampleUniform};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point element type: `f32` or `f64`.
///
/// Everything a tensor needs from its elements is in this trait's bounds, so generic code over tensors
/// writes `E: Element` and nothing else.
///
/// ```
/// use shaped::Element;
/// fn describe<E: Element>() -> &'static str { E::NAME }
/// assert_eq!(describe::<f32>(), "f32");
/// assert_eq!(describe::<f64>(), "f64");
/// ```
pub trait Element:
    sealed::Sealed
    + crate::kernels::Kernels
    + Float
    + FromPrimitive
    + NumAssign
    + Default
    + Debug
    + Display
    + LowerExp
    + Send
    + Sync
    + 'static
    + approx::AbsDiffEq<Epsilon = Self>
    + approx::RelativeEq
    + approx::UlpsEq
    + SampleUniform
    + core::iter::Sum
{
    /// The type's name, as numpy and PyTorch print it (`"f32"`, `"f64"`).
    const NAME: &'static str;

    /// Converts an `f64` constant to this type (rounding to nearest for `f32`).
    ///
    /// ```
    /// use shaped::Element;
    /// assert_eq!(f32::from_f64_lossy(0.1), 0.1_f32); // the f32 nearest to 0.1
    /// assert_eq!(f64::from_f64_lossy(0.1), 0.1);
    /// assert_eq!(f32::from_f64_lossy(1e40), f32::INFINITY); // too large for f32
    /// ```
    fn from_f64_lossy(v: f64) -> Self;

    /// The safetensors element type this type is stored as.
    #[doc(hidden)]
    const DTYPE: safetensors::Dtype;

    /// Appends the little-endian bytes of `values` to `out`.
    #[doc(hidden)]
    fn extend_le_bytes(values: &[Self], out: &mut Vec<u8>);

    /// Reads values from their little-endian bytes (a trailing partial element is ignored).
    #[doc(hidden)]
    fn from_le_slice(bytes: &[u8]) -> Vec<Self>;

    /// Runs `f` on this thread's pool of free buffers (`None` while the thread is being torn down).
    #[doc(hidden)]
    fn with_pool<R>(f: impl FnOnce(&mut crate::buffer::Pool<Self>) -> R) -> Option<R>;

    /// Draws a sample of the standard normal distribution.
    #[doc(hidden)]
    fn standard_normal<R: rand::Rng + ?Sized>(rng: &mut R) -> Self;

    /// `C <- alpha A B + beta C` with arbitrary strides; see [`matrixmultiply::sgemm`].
    ///
    /// # Safety
    /// The pointers, dimensions and strides must describe matrices that lie inside live allocations,
    /// and `c`'s strides must not make two elements alias.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm_raw(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    );
}

macro_rules! element {
    ($t:ty, $name:literal, $dtype:expr, $gemm:path, $pool:ident) => {
        thread_local! {
            static $pool: core::cell::RefCell<crate::buffer::Pool<$t>> =
                core::cell::RefCell::new(crate::buffer::Pool::default());
        }

        impl Element for $t {
            const NAME: &'static str = $name;
            const DTYPE: safetensors::Dtype = $dtype;

            fn extend_le_bytes(values: &[Self], out: &mut Vec<u8>) {
                out.reserve(size_of_val(values));
                for v in values {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }

            fn from_le_slice(bytes: &[u8]) -> Vec<Self> {
                bytes
                    .chunks_exact(size_of::<$t>())
                    .map(|c| {
                        <$t>::from_le_bytes(c.try_into().expect("chunks have the element's size"))
                    })
                    .collect()
            }

            #[inline]
            fn with_pool<R>(f: impl FnOnce(&mut crate::buffer::Pool<Self>) -> R) -> Option<R> {
                $pool
                    .try_with(|p| p.try_borrow_mut().ok().map(|mut p| f(&mut p)))
                    .ok()
                    .flatten()
            }

            #[inline]
            #[allow(clippy::cast_possible_truncation)]
            fn from_f64_lossy(v: f64) -> Self {
                v as $t
            }

            #[inline]
            fn standard_normal<R: rand::Rng + ?Sized>(rng: &mut R) -> Self {
                <StandardNormal as Distribution<$t>>::sample(&StandardNormal, rng)
            }

            #[inline]
            unsafe fn gemm_raw(
                m: usize,
                k: usize,
                n: usize,
                alpha: Self,
                a: *const Self,
                rsa: isize,
                csa: isize,
                b: *const Self,
                rsb: isize,
                csb: isize,
                beta: Self,
                c: *mut Self,
                rsc: isize,
                csc: isize,
            ) {
                // SAFETY: forwarded from this function's own contract, which `crate::gemm::gemm` upholds
                // by checking every matrix's extent against its slice before calling.
                unsafe { $gemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc) }
            }
        }
    };
}

element!(
    f32,
    "f32",
    safetensors::Dtype::F32,
    matrixmultiply::sgemm,
    POOL_F32
);
element!(
    f64,
    "f64",
    safetensors::Dtype::F64,
    matrixmultiply::dgemm,
    POOL_F64
);
